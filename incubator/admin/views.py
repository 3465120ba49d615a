from __future__ import annotations

from flask import Blueprint, request, url_for
from flask_login import current_user

from ..accounts.policy import activation_sheet_refusal, invitation_refusal
from ..accounts.queries import ACTIVATION_FILTERS, access_states
from ..accounts.tokens import lifetimes
from ..audit.services import ACTION_LABELS, action_label
from ..collective import services as collective_services
from ..collective.models import CollectiveMembership
from ..core.queries import home_summary
from ..errors import ValidationFailed
from ..exports import csv_response
from ..extensions import db
from ..organisation import importer as units_importer
from ..organisation import services as organisation_services
from ..organisation.models import OrgUnit
from ..pagination import paginate_capped
from ..people import services as people_services
from ..people.importer import REQUIRED_COLUMNS, ImportFailed, import_agents
from ..people.models import CATEGORIES, QUOTITE_MAX, QUOTITE_MIN, ROLE_LABELS, ROLES, User
from ..people.policy import deactivation_refusal, user_edit_refusal
from ..security import instance_admin_required, roles_required
from ..timeutil import parse_day, today_paris
from ..web import (
    done,
    get_in_institution_or_404,
    int_arg,
    page_number,
    render_page,
    write,
)
from . import forms, queries

bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = roles_required("admin")


def _institution_id() -> int:
    return current_user.institution_id


# --------------------------------------------------------------------------- overview


@bp.get("/")
@admin_only
def index():
    return render_page("admin/index.html", counts=home_summary(current_user).admin_counts)


# --------------------------------------------------------------------------- org units


@bp.get("/services")
@admin_only
def org_units():
    return render_page("admin/org_units.html", nodes=queries.org_unit_tree(_institution_id()))


@bp.route("/services/nouveau", methods=["GET", "POST"])
@admin_only
def org_unit_create():
    form = forms.OrgUnitCreateForm()
    form.parent_id.choices = queries.unit_choices(_institution_id(), empty="— Aucune (niveau le plus haut) —")

    def page(_=None):
        return render_page("admin/org_unit_create.html", form=form, block="form")

    if request.method == "GET":
        return page()
    return write(form, lambda: organisation_services.create_org_unit(
        current_user, institution_id=_institution_id(), code=form.code.data,
        name=form.name.data, kind=form.kind.data, parent_id=form.parent_id.data,
    ), success=lambda _: done(f"« {form.name.data.strip()} » a été créé.", url_for("admin.org_units")),
        invalid=page)


def _unit_forms(unit: OrgUnit):
    rename = forms.OrgUnitRenameForm(prefix="rename", data={"name": unit.name})
    move = forms.OrgUnitMoveForm(prefix="move", data={"parent_id": unit.parent_id})
    move.parent_id.choices = queries.unit_choices(
        unit.institution_id, empty="— Aucune (niveau le plus haut) —",
        exclude_subtree_of=unit.id,
    )
    return rename, move


def _unit_page(unit: OrgUnit, forms_=None, reopen=None):
    rename, move = forms_ or _unit_forms(unit)
    return render_page("admin/org_unit.html", unit=unit, rename=rename, move=move,
                       reopen=reopen or forms.ConfirmForm(prefix="reopen"))


@bp.get("/services/<int:unit_id>")
@admin_only
def org_unit(unit_id: int):
    return _unit_page(get_in_institution_or_404(OrgUnit, unit_id))


@bp.post("/services/<int:unit_id>/renommer")
@admin_only
def org_unit_rename(unit_id: int):
    unit = get_in_institution_or_404(OrgUnit, unit_id)
    rename, move = _unit_forms(unit)
    return write(rename, lambda: organisation_services.rename_org_unit(current_user, unit, name=rename.name.data),
                 success=lambda _: done("Le nom a été modifié.", url_for("admin.org_unit", unit_id=unit_id)),
                 invalid=lambda _: _unit_page(unit, (rename, move)))


@bp.post("/services/<int:unit_id>/deplacer")
@admin_only
def org_unit_move(unit_id: int):
    unit = get_in_institution_or_404(OrgUnit, unit_id)
    rename, move = _unit_forms(unit)
    return write(move, lambda: organisation_services.move_org_unit(current_user, unit, parent_id=move.parent_id.data),
                 success=lambda _: done("Le rattachement a été modifié.", url_for("admin.org_unit", unit_id=unit_id)),
                 invalid=lambda _: _unit_page(unit, (rename, move)))


@bp.route("/services/<int:unit_id>/fermer", methods=["GET", "POST"])
@admin_only
def org_unit_close(unit_id: int):
    unit = get_in_institution_or_404(OrgUnit, unit_id)
    form = forms.OrgUnitCloseForm()

    def page(_=None):
        return render_page("admin/org_unit_close.html", unit=unit, form=form)

    if request.method == "GET":
        form.closed_on.data = today_paris()
        return page()
    return write(form, lambda: organisation_services.close_org_unit(current_user, unit, on=form.closed_on.data),
                 success=lambda _: done(f"« {unit.name} » est fermé.", url_for("admin.org_units")),
                 invalid=page)


@bp.post("/services/<int:unit_id>/rouvrir")
@admin_only
def org_unit_reopen(unit_id: int):
    unit = get_in_institution_or_404(OrgUnit, unit_id)
    form = forms.ConfirmForm(prefix="reopen")
    return write(form, lambda: organisation_services.reopen_org_unit(current_user, unit),
                 success=lambda _: done(f"« {unit.name} » est rouvert.", url_for("admin.org_unit", unit_id=unit_id)),
                 invalid=lambda _: _unit_page(unit, reopen=form))


# --------------------------------------------------------------------------- agents


def _agent_filters() -> queries.AgentFilters:
    args = request.args
    unit_id = int_arg("service")
    return queries.AgentFilters(
        q=(args.get("q") or "").strip()[:100],
        org_unit_id=unit_id,
        category=args.get("categorie") if args.get("categorie") in CATEGORIES else "",
        role=args.get("role") if args.get("role") in ROLES else "",
        status=args.get("statut") if args.get("statut") in ("active", "inactive", "all") else "active",
        activation=args.get("activation") if args.get("activation") in ACTIVATION_FILTERS else "",
    )


@bp.get("/agents")
@admin_only
def users():
    filters = _agent_filters()
    page = db.paginate(queries.agents_query(_institution_id(), filters), page=page_number(),
                       per_page=25, error_out=False)
    return render_page(
        "admin/users.html", block="results", page=page, filters=filters,
        unit_choices=queries.unit_choices(_institution_id(), empty="Toutes", open_only=False),
        role_labels=ROLE_LABELS, access=access_states(page.items),
        activation_choices={"": "Tous", **ACTIVATION_FILTERS},
    )


def _user_data(form: forms.UserForm) -> dict:
    return {
        "first_name": form.first_name.data, "last_name": form.last_name.data,
        "email": form.email.data, "login_id": form.login_id.data, "employee_number": form.employee_number.data,
        "category": form.category.data,
        "quotite": form.quotite.data, "org_unit_id": form.org_unit_id.data,
        "manager_email": form.manager_email.data,
    }


@bp.route("/agents/nouveau", methods=["GET", "POST"])
@admin_only
def user_create():
    form = forms.UserCreateForm()
    form.org_unit_id.choices = queries.unit_choices(_institution_id(), empty="— Choisir —")

    def page(_=None):
        return render_page("admin/user_create.html", form=form, block="form")

    if request.method == "GET":
        return page()
    return write(form, lambda: people_services.create_user(
        current_user, institution_id=_institution_id(), data=_user_data(form),
        password=form.password.data or None, roles=form.roles.data or [],
    ), success=lambda user: done(f"Le compte de {user.full_name} a été créé.",
                                 url_for("admin.user", user_id=user.id)),
        invalid=page)


def _user_page(user: User, *, profile=None, roles=None, password=None):
    if profile is None:
        profile = forms.UserForm(prefix="profile", data={
            "first_name": user.first_name, "last_name": user.last_name, "email": user.email,
            "login_id": user.login_id, "employee_number": user.employee_number, "category": user.category,
            "quotite": user.quotite,
            "org_unit_id": user.org_unit_id, "manager_email": user.manager.login if user.manager else "",
        })
    profile.org_unit_id.choices = queries.unit_choices(user.institution_id, empty="— Choisir —")
    roles = roles or forms.RolesForm(prefix="roles", data={"roles": sorted(user.role_names)})
    password = password or forms.PasswordSetForm(prefix="password")
    return render_page("admin/user.html", user=user, profile=profile, roles=roles,
                       password=password, reactivate=forms.ConfirmForm(prefix="reactivate"),
                       edit_refusal=user_edit_refusal(current_user, user),
                       deactivation_refusal=deactivation_refusal(current_user, user),
                       reports=sorted(user.reports, key=lambda u: u.sort_name),
                       last_seen=people_services.last_seen(user), access=access_states([user])[user.id],
                       access_form=forms.ConfirmForm(prefix="access"), lifetimes=lifetimes(),
                       invitation_refusal=invitation_refusal(current_user, user),
                       sheet_refusal=activation_sheet_refusal(current_user, user))


@bp.get("/agents/<int:user_id>")
@admin_only
def user(user_id: int):
    return _user_page(get_in_institution_or_404(User, user_id))


@bp.post("/agents/<int:user_id>")
@admin_only
def user_update(user_id: int):
    user = get_in_institution_or_404(User, user_id)
    form = forms.UserForm(prefix="profile")
    form.org_unit_id.choices = queries.unit_choices(user.institution_id, empty="— Choisir —")
    return write(form, lambda: people_services.update_user(current_user, user, data=_user_data(form)),
                 success=lambda _: done("La fiche de l'agent a été enregistrée.", url_for("admin.user", user_id=user_id)),
                 invalid=lambda _: _user_page(user, profile=form))


@bp.post("/agents/<int:user_id>/roles")
@admin_only
def user_roles(user_id: int):
    user = get_in_institution_or_404(User, user_id)
    form = forms.RolesForm(prefix="roles")
    return write(form, lambda: people_services.set_roles(current_user, user, roles=form.roles.data or []),
                 success=lambda _: done("Les rôles ont été enregistrés.", url_for("admin.user", user_id=user_id)),
                 invalid=lambda _: _user_page(user, roles=form))


@bp.post("/agents/<int:user_id>/mot-de-passe")
@admin_only
def user_password(user_id: int):
    user = get_in_institution_or_404(User, user_id)
    form = forms.PasswordSetForm(prefix="password")
    return write(form, lambda: people_services.set_password(current_user, user, password=form.password.data),
                 success=lambda _: done("Le mot de passe a été défini ; les sessions ouvertes de l'agent sont fermées.",
                                        url_for("admin.user", user_id=user_id)),
                 invalid=lambda _: _user_page(user, password=form))


@bp.route("/agents/<int:user_id>/desactiver", methods=["GET", "POST"])
@admin_only
def user_deactivate(user_id: int):
    user = get_in_institution_or_404(User, user_id)
    form = forms.ConfirmForm()

    def page(_=None):
        return render_page("admin/user_deactivate.html", user=user, form=form)

    if request.method == "GET":
        return page()
    return write(form, lambda: people_services.deactivate_user(current_user, user),
                 success=lambda _: done(f"Le compte de {user.full_name} est désactivé ; ses sessions sont fermées.",
                                        url_for("admin.user", user_id=user_id)),
                 invalid=page)


@bp.post("/agents/<int:user_id>/reactiver")
@admin_only
def user_reactivate(user_id: int):
    user = get_in_institution_or_404(User, user_id)
    form = forms.ConfirmForm(prefix="reactivate")
    return write(form, lambda: people_services.reactivate_user(current_user, user),
                 success=lambda _: done(f"Le compte de {user.full_name} est réactivé.",
                                        url_for("admin.user", user_id=user_id)),
                 invalid=lambda _: _user_page(user))


# --------------------------------------------------------------------------- import


@bp.route("/import", methods=["GET", "POST"])
@admin_only
def import_users():
    form = forms.ImportForm()

    def page(report=None, failure=None):
        return render_page("admin/import.html", form=form, report=report, failure=failure, lifetimes=lifetimes(),
                           required=REQUIRED_COLUMNS, quotite_min=QUOTITE_MIN, quotite_max=QUOTITE_MAX)

    if request.method == "GET":
        return page()

    def run_import():
        upload = form.file.data
        if upload is None or not getattr(upload, "filename", ""):
            raise ValidationFailed({"file": "Choisissez un fichier CSV."})
        return import_agents(current_user, institution_id=_institution_id(), raw=upload.read())

    return write(form, run_import, success=lambda report: page(report=report),
                 invalid=lambda refusal: page(failure=refusal if isinstance(refusal, ImportFailed) else None))


AGENTS_TEMPLATE_HEADER = ("email", "identifiant", "prenom", "nom", "categorie", "service", "quotite", "n_plus_1",
                          "matricule")
# Imports as it is once the units template is imported: the N+1 comes first, in the file; an
# agent without a professional email has an identifier (matricule) instead.
AGENTS_TEMPLATE_ROWS = (("karim.benali@ville.fr", "", "Karim", "Benali", "A", "DST", 100, "", "A00127"),
                        ("lea.petit@ville.fr", "", "Léa", "Petit", "C", "DST-BAT", 80, "karim.benali@ville.fr", ""),
                        ("", "m09876", "Bruno", "Lefort", "C", "DST-BAT", 100, "karim.benali@ville.fr", "09876"))


@bp.get("/import/modele.csv")
@admin_only
def import_users_template():
    return csv_response("modele-import-agents.csv", AGENTS_TEMPLATE_HEADER, AGENTS_TEMPLATE_ROWS)


@bp.route("/import-unites", methods=["GET", "POST"])
@admin_only
def import_units():
    form = forms.UnitImportForm()

    def page(report=None, failure=None):
        return render_page("admin/import_units.html", form=form, report=report, failure=failure,
                           header=units_importer.TEMPLATE_HEADER, example=units_importer.TEMPLATE_ROWS)

    if request.method == "GET":
        return page()

    def run_import():
        upload = form.file.data
        if upload is None or not getattr(upload, "filename", ""):
            raise ValidationFailed({"file": "Choisissez un fichier CSV."})
        return units_importer.import_units(current_user, institution_id=_institution_id(), raw=upload.read())

    return write(form, run_import, success=lambda report: page(report=report),
                 invalid=lambda refusal: page(
                     failure=refusal if isinstance(refusal, units_importer.ImportFailed) else None))


@bp.get("/import-unites/modele.csv")
@admin_only
def import_units_template():
    return csv_response("modele-import-unites.csv", units_importer.TEMPLATE_HEADER, units_importer.TEMPLATE_ROWS)


# --------------------------------------------------------------------------- collective


def _collective_page(form=None, end_form=None, ending_id: int | None = None):
    """The collective's page; `end_form` and `ending_id`: a refused end of mandate, its
    messages shown on that membership's row."""
    current, past = queries.memberships(_institution_id(), today_paris())
    return render_page(
        "admin/collective.html", current=current, past=past,
        form=form or forms.MembershipForm(data={"starts_on": today_paris()}),
        end_form=end_form or forms.EndMembershipForm(data={"ends_on": today_paris()}),
        ending_id=ending_id, today=today_paris(),
    )


collective_managers = roles_required("admin", "coordinator")


@bp.get("/collectif")
@collective_managers
def collective():
    return _collective_page()


@bp.post("/collectif")
@collective_managers
def collective_add():
    form = forms.MembershipForm()

    def add():
        member = people_services.agent_by_email(_institution_id(), form.member_email.data, active_only=False)
        collective_services.add_collective_member(
            current_user, institution_id=_institution_id(), user_id=member.id if member else None,
            starts_on=form.starts_on.data, ends_on=form.ends_on.data)

    return write(form, add, aliases={"user_id": "member_email"},
                 success=lambda _: done("Le mandat a été enregistré.", url_for("admin.collective")),
                 invalid=lambda _: _collective_page(form=form))


@bp.post("/collectif/<int:membership_id>/fin")
@collective_managers
def collective_end(membership_id: int):
    membership = get_in_institution_or_404(CollectiveMembership, membership_id)
    form = forms.EndMembershipForm()
    return write(form, lambda: collective_services.end_collective_membership(current_user, membership, ends_on=form.ends_on.data),
                 success=lambda _: done(f"Le mandat de {membership.user.full_name} se termine le "
                                        f"{form.ends_on.data.strftime('%d/%m/%Y')}.", url_for("admin.collective")),
                 invalid=lambda _: _collective_page(end_form=form, ending_id=membership_id))


# --------------------------------------------------------------------------- audit


@bp.get("/journal")
@admin_only
def audit():
    args = request.args
    filters = queries.AuditFilters(
        action=args.get("action") if args.get("action") in ACTION_LABELS else "",
        actor=(args.get("acteur") or "").strip()[:100],
        since=parse_day(args.get("du")), until=parse_day(args.get("au")),
    )
    page = paginate_capped(queries.audit_query(_institution_id(), filters), page=page_number(), per_page=50)
    return render_page("admin/audit.html", block="results", page=page, filters=filters,
                       action_labels=ACTION_LABELS, action_label=action_label)


# --------------------------------------------------------------------------- institutions


@bp.route("/collectivites", methods=["GET", "POST"])
@instance_admin_required
def institutions():
    form = forms.InstitutionForm()

    def page(_=None):
        return render_page("admin/institutions.html", form=form, rows=queries.institutions_with_counts())

    if request.method == "GET":
        return page()
    return write(form, lambda: organisation_services.create_institution(
        current_user, name=form.name.data, slug=form.slug.data, kind=form.kind.data),
        success=lambda _: done(f"« {form.name.data.strip()} » a été créée. Créez-y un premier compte "
                               "d'administration avec « flask create-admin ».", url_for("admin.institutions")),
        invalid=page)
