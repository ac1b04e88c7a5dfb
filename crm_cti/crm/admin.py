"""Admin for contacts, with a CSV import view (upload → Celery task → progress page), the
team's dispositions and the company lines."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from crm_cti.crm.forms import ContactImportForm, clean_phone_field
from crm_cti.crm.importing import contact_import_create
from crm_cti.crm.models import (
    CompanyLine,
    Contact,
    ContactChange,
    ContactImport,
    ContactPhone,
    Disposition,
)
from crm_cti.crm.phones import InvalidPhoneNumber, normalize_e164
from crm_cti.crm.services import contact_change_record, contact_delete, contact_snapshot

# The admin saves the contact (save_model) and then its numbers (save_related): the state
# before both is kept on the request between the two, for the audit entry.
_BEFORE = "_crm_contact_before"


def _changes_text(changes: dict) -> str:
    parts = []
    for name, (before, after) in (changes or {}).items():
        shown = [", ".join(v) if isinstance(v, list) else str(v or "—") for v in (before, after)]
        parts.append(f"{name}: {shown[0][:80]} → {shown[1][:80]}")
    return "; ".join(parts)


class ContactPhoneInline(admin.TabularInline):
    model = ContactPhone
    extra = 1
    fields = ("label", "raw", "e164")
    readonly_fields = ("e164",)


class ContactChangeInline(admin.TabularInline):
    """The contact's audit trail, read-only, newest first."""

    model = ContactChange
    fields = ("created_at", "changed_by", "source", "action", "what_changed")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "change"
    verbose_name_plural = "History of changes"

    @admin.display(description="What changed")
    def what_changed(self, obj: ContactChange) -> str:
        return _changes_text(obj.changes)

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("full_name", "company", "title", "email", "numbers", "updated_at")
    search_fields = ("first_name", "last_name", "company", "email", "phones__e164")
    list_filter = ("company",)
    inlines = [ContactPhoneInline, ContactChangeInline]

    def get_inlines(self, request: HttpRequest, obj: Contact | None):  # type: ignore[override]
        # A contact being added has no history yet.
        return self.inlines if obj is not None else [ContactPhoneInline]

    def save_model(self, request, obj, form, change):  # type: ignore[override]
        before = None
        if change and obj.pk:
            stored = Contact.objects.filter(pk=obj.pk).first()
            before = contact_snapshot(stored) if stored else None
        setattr(request, _BEFORE, before)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):  # type: ignore[override]
        super().save_related(request, form, formsets, change)
        contact_change_record(
            contact=form.instance,
            before=getattr(request, _BEFORE, None),
            after=contact_snapshot(form.instance),
            changed_by=request.user,
            source="admin",
        )

    def delete_model(self, request, obj):  # type: ignore[override]
        contact_delete(contact=obj, changed_by=request.user, source="admin")

    def delete_queryset(self, request, queryset):  # type: ignore[override]
        for contact in queryset:
            contact_delete(contact=contact, changed_by=request.user, source="admin")
    change_list_template = "admin/crm/contact/change_list.html"

    @admin.display(description="Numbers")
    def numbers(self, obj: Contact) -> str:
        return ", ".join(p.e164 for p in obj.phones.all())

    def get_queryset(self, request: HttpRequest):  # type: ignore[override]
        return super().get_queryset(request).prefetch_related("phones")

    def save_formset(self, request, form, formset, change):  # type: ignore[override]
        # Numbers typed in the admin are normalized like everywhere else.
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for obj in instances:
            if isinstance(obj, ContactPhone):
                try:
                    obj.e164 = normalize_e164(obj.raw)
                except InvalidPhoneNumber as exc:
                    messages.error(request, f"Number not saved: {exc}")
                    continue
            obj.save()
        formset.save_m2m()

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="crm_contact_import",
            ),
            path(
                "import/<int:import_id>/",
                self.admin_site.admin_view(self.import_status_view),
                name="crm_contact_import_status",
            ),
        ]
        return custom + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            return HttpResponse(status=403)
        from crm_cti.crm.tasks import contact_import_process

        form = ContactImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            imp = contact_import_create(
                text=form.cleaned_data["text"], filename=upload.name, user=request.user
            )
            transaction.on_commit(lambda: contact_import_process.delay(imp.pk))
            return redirect("admin:crm_contact_import_status", import_id=imp.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import contacts from CSV",
            "form": form,
            "recent_imports": ContactImport.objects.defer("content")[:10],
        }
        return TemplateResponse(request, "admin/crm/contact/import.html", context)

    def import_status_view(self, request: HttpRequest, import_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        imp = get_object_or_404(ContactImport.objects.defer("content"), pk=import_id)
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse(
                {
                    "status": imp.status,
                    "total_rows": imp.total_rows,
                    "processed_rows": imp.processed_rows,
                    "created": imp.created_count,
                    "updated": imp.updated_count,
                    "errors": imp.row_errors,
                    "failure": imp.failure,
                    "percent": imp.percent,
                    "finished": imp.is_finished,
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Contact import #{imp.pk}",
            "imp": imp,
            "import_url": reverse("admin:crm_contact_import"),
        }
        return TemplateResponse(request, "admin/crm/contact/import_status.html", context)


@admin.register(ContactImport)
class ContactImportAdmin(admin.ModelAdmin):
    list_display = ("id", "filename", "status", "processed_rows", "total_rows", "created_count",
                    "updated_count", "attempts", "created_at", "updated_at")
    list_filter = ("status",)
    readonly_fields = ("filename", "status", "total_rows", "processed_rows", "created_count",
                       "updated_count", "row_errors", "failure", "attempts", "created_by",
                       "created_at", "updated_at", "finished_at")
    exclude = ("content",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ContactChange)
class ContactChangeAdmin(admin.ModelAdmin):
    """Every contact change, searchable: who changed which numbers, when."""

    list_display = ("created_at", "contact_name", "who", "source", "action", "what_changed")
    list_filter = ("action", "source")
    search_fields = ("contact_name", "changed_by__username", "changed_by__first_name",
                     "changed_by__last_name")
    readonly_fields = ("created_at", "contact", "contact_name", "changed_by", "source",
                       "action", "what_changed")
    exclude = ("changes",)
    list_select_related = ("changed_by",)

    @admin.display(description="What changed")
    def what_changed(self, obj: ContactChange) -> str:
        return _changes_text(obj.changes)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Disposition)
class DispositionAdmin(admin.ModelAdmin):
    """The team's dispositions, edited in the list. One calls already use cannot be deleted
    (their history keeps the name): untick "active" to take it off the cards."""

    list_display = ("name", "order", "active", "requires_note")
    list_editable = ("order", "active", "requires_note")
    list_display_links = ("name",)
    ordering = ("order", "name")


class CompanyLineForm(forms.ModelForm):
    class Meta:
        model = CompanyLine
        fields = ("e164", "company")
        labels = {"e164": "Number"}

    def clean_e164(self) -> str:
        # Stored as E.164 like every number, or no call would ever match it.
        return clean_phone_field(self.cleaned_data.get("e164", ""), required=True)


@admin.register(CompanyLine)
class CompanyLineAdmin(admin.ModelAdmin):
    """Numbers that match a company, not a person (also marked from the data-quality page)."""

    form = CompanyLineForm
    list_display = ("e164", "company", "created_at")
    search_fields = ("e164", "company")
