import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def forward(apps, schema_editor):
    """Keep what RingCentral said, and take back the superuser flag sign-in used to grant:
    users made by RingCentral sign-in (no usable password) get is_staff and model
    permissions instead (crm_cti.accounts.admin_access)."""
    Agent = apps.get_model("accounts", "Agent")
    Agent.objects.filter(is_admin=True).update(rc_admin=True)
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    User.objects.filter(agent__isnull=False, password__startswith="!", is_superuser=True).update(
        is_superuser=False
    )


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_ringcentraltoken'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='agent',
            name='admin_override',
            field=models.BooleanField(blank=True, help_text='Decided here, kept at every sign-in: Yes or No. Unknown follows RingCentral.', null=True, verbose_name='admin in crm_cti'),
        ),
        migrations.AddField(
            model_name='agent',
            name='rc_admin',
            field=models.BooleanField(default=False, help_text='What RingCentral (or CRM_ADMIN_EXTENSIONS / CRM_ADMIN_ROLE_IDS) said at the last sign-in.', verbose_name='admin in RingCentral'),
        ),
        migrations.CreateModel(
            name='SignInSession',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('session_key', models.CharField(max_length=40, unique=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='signin_sessions', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
