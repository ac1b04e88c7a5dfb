"""Call.disposition: from a code of the old fixed list to a reference to crm.Disposition
(the team's own list), and Call.match_info (why this contact popped)."""

from django.db import migrations, models
import django.db.models.deletion

# The old codes and the names crm 0004 created rows with.
OLD_NAMES = {
    "resolved": "Resolved",
    "follow_up": "Follow-up needed",
    "sale": "Sale",
    "support": "Support request",
    "left_voicemail": "Left voicemail",
    "wrong_number": "Wrong number",
    "spam": "Spam",
}


def codes_to_rows(apps, schema_editor):
    Call = apps.get_model("telephony", "Call")
    Disposition = apps.get_model("crm", "Disposition")
    codes = (
        Call.objects.exclude(disposition_code="")
        .values_list("disposition_code", flat=True)
        .distinct()
    )
    for code in list(codes):
        # A code outside the old list (written through the API by hand) keeps its text as
        # the name of an inactive disposition, so no call loses what it said.
        name = OLD_NAMES.get(code, code)[:100]
        row, _created = Disposition.objects.get_or_create(
            name=name, defaults={"order": 1000, "active": code in OLD_NAMES}
        )
        Call.objects.filter(disposition_code=code).update(disposition=row)


def rows_to_codes(apps, schema_editor):
    Call = apps.get_model("telephony", "Call")
    codes = {name: code for code, name in OLD_NAMES.items()}
    for call in Call.objects.exclude(disposition=None).select_related("disposition"):
        name = call.disposition.name
        call.disposition_code = codes.get(name, name)[:64]
        call.save(update_fields=["disposition_code"])


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0004_dispositions_company_lines_number_choices"),
        ("telephony", "0003_call_missed_due_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="call",
            name="match_info",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RenameField(
            model_name="call", old_name="disposition", new_name="disposition_code"
        ),
        migrations.AddField(
            model_name="call",
            name="disposition",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="crm.disposition",
            ),
        ),
        migrations.RunPython(codes_to_rows, rows_to_codes),
        migrations.RemoveField(model_name="call", name="disposition_code"),
    ]
