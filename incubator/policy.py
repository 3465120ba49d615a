"""Who may use each endpoint: the application's access policy, as data.

The views enforce it (decorators, service guards, object scoping); this table states it
for reviewers, and tests/security/test_policy.py walks the URL map: an endpoint missing
here fails the build, and every endpoint is tried by every persona, anonymous included,
with objects of the persona's institution and of another one.

Personas: "anonymous"; "agent" (any agent); "author" (author of the proposals and lead
of the project used); "member" (collectif pilote); "coordinator"; "manager" (the
author's N+1); "hr"; "admin"; "instance_admin".
"""

from __future__ import annotations

PUBLIC = frozenset({"anonymous", "agent", "author", "member", "coordinator", "manager", "hr", "admin", "instance_admin"})
SIGNED_IN = PUBLIC - {"anonymous"}

POLICY: dict[str, frozenset[str]] = {
    # Public information and technical endpoints.
    "core.healthz": PUBLIC, "core.accessibility": PUBLIC, "core.personal_data": PUBLIC, "core.site_map": PUBLIC,
    "core.theme_css": PUBLIC, "accounts.login": PUBLIC, "accounts.logout": PUBLIC,
    # Single sign-on: the provider's button, its return, its return after logout.
    "accounts.oidc_start": PUBLIC, "accounts.oidc_callback": PUBLIC, "accounts.logout_return": PUBLIC,
    # Getting into one's account without a password: the token or the code is the key.
    "accounts.forgot_password": PUBLIC, "accounts.reset_password": PUBLIC, "accounts.activate": PUBLIC,
    "accounts.activate_with_code": PUBLIC,
    # Every agent, on their own data or on what the institution publishes.
    "core.home": SIGNED_IN, "accounts.account": SIGNED_IN, "accounts.extend_session": SIGNED_IN,
    "proposals.board": SIGNED_IN, "proposals.show": SIGNED_IN, "proposals.versions": SIGNED_IN,
    "proposals.similar": SIGNED_IN, "proposals.mine": SIGNED_IN, "proposals.new_initiative": SIGNED_IN,
    "proposals.new_offer": SIGNED_IN, "proposals.support": SIGNED_IN - {"author"},
    "proposals.comment": SIGNED_IN,
    "review.how": SIGNED_IN, "review.journal": SIGNED_IN, "review.sessions": SIGNED_IN,
    "review.session": SIGNED_IN, "review.live": SIGNED_IN,
    "projects.portfolio": SIGNED_IN, "projects.show": SIGNED_IN, "projects.charter": SIGNED_IN,
    "immersions.index": SIGNED_IN, "immersions.apply": SIGNED_IN - {"member"},
    "release_time.week": SIGNED_IN, "release_time.save": SIGNED_IN, "release_time.recall": SIGNED_IN,
    "release_time.approvals": SIGNED_IN, "release_time.delegate": frozenset({"manager"}),
    "engagement.mine": SIGNED_IN, "dashboard.index": SIGNED_IN,
    "notifications.index": SIGNED_IN, "notifications.counter": SIGNED_IN,
    "notifications.preferences": SIGNED_IN, "notifications.read_all": SIGNED_IN,
    # The object's own people.
    "notifications.read": frozenset({"author"}),
    "proposals.edit": frozenset({"author"}), "proposals.submit": frozenset({"author"}),
    "proposals.resubmit": frozenset({"author"}), "proposals.withdraw": frozenset({"author"}),
    "proposals.answer_invitation": frozenset({"agent"}),  # the invited co-author
    # The lead edits the charter while the project is in framing; once validated (the
    # world's project is active), its sponsor and the coordinator only (projects.policy).
    "projects.edit_charter": frozenset({"coordinator"}),
    # Its team picker's suggestions: for who may edit the charter (same rule).
    "projects.agent_search": frozenset({"coordinator"}),
    "projects.validate": frozenset({"coordinator"}),
    "projects.add_milestone": frozenset({"author", "coordinator"}),
    "projects.toggle_milestone": frozenset({"author", "coordinator"}),
    "projects.add_progress": frozenset({"author", "coordinator"}),
    "projects.hold_or_resume": frozenset({"author", "coordinator"}),
    "projects.close": frozenset({"author", "coordinator"}),
    # The immersed agent (author), their N+1, the host (member), and the coordinators, HR
    # and administrators of the two institutions: see projects.policy.can_read_convention.
    "immersions.convention": SIGNED_IN - {"agent"},
    "immersions.consent": frozenset({"manager"}),
    "immersions.select": frozenset({"member"}),  # the offer's host
    "release_time.decide": frozenset({"manager"}),
    "release_time.override": frozenset({"manager"}),
    # The collectif pilote.
    "review.queue": frozenset({"member", "coordinator"}), "review.waiting": frozenset({"member", "coordinator"}),
    "review.assess": frozenset({"member", "coordinator"}),
    "review.declare_conflict": frozenset({"member", "coordinator"}),
    "review.vote": frozenset({"member", "coordinator"}),
    # The coordinator.
    "review.settings": frozenset({"coordinator"}), "review.criterion": frozenset({"coordinator"}),
    "review.eligibility_queue": frozenset({"coordinator"}), "review.eligibility": frozenset({"coordinator"}),
    "review.open_review": frozenset({"coordinator"}), "review.declare_ineligible": frozenset({"coordinator"}),
    "review.schedule": frozenset({"coordinator"}), "review.attendance": frozenset({"coordinator"}),
    "review.open_vote": frozenset({"coordinator"}), "review.close_vote": frozenset({"coordinator"}),
    "review.postpone": frozenset({"coordinator"}), "review.publish": frozenset({"coordinator"}),
    "review.correct": frozenset({"coordinator"}),
    # The administration, for one proposal whose coordinators are recused (a substitute
    # then takes the coordinator's actions on that proposal only, through the endpoints above).
    "review.designate_substitute": frozenset({"admin", "instance_admin"}),
    "proposals.hide_comment": frozenset({"coordinator"}),
    "admin.collective": frozenset({"admin", "coordinator", "instance_admin"}),
    "admin.collective_add": frozenset({"admin", "coordinator", "instance_admin"}),
    "admin.collective_end": frozenset({"admin", "coordinator", "instance_admin"}),
    # HR.
    "engagement.hr": frozenset({"hr"}), "engagement.hr_agent": frozenset({"hr"}),
    # An agent's direct N+1, when the institution allows it (/admin/parametres; on in the
    # test's world): engagement.policy.report_record_refusal.
    "engagement.reports": frozenset({"manager"}), "engagement.report_agent": frozenset({"manager"}),
    # The institution's administration (the instance administrator is one of its admins).
    **{endpoint: frozenset({"admin", "instance_admin"}) for endpoint in (
        "admin.index", "admin.org_units", "admin.org_unit", "admin.org_unit_create", "admin.org_unit_rename",
        "admin.org_unit_move", "admin.org_unit_close", "admin.org_unit_reopen", "admin.users", "admin.user",
        "admin.user_create", "admin.user_update", "admin.user_roles", "admin.user_password",
        "admin.user_deactivate", "admin.user_reactivate", "admin.import_users", "admin.import_users_template",
        "admin.user_invite", "admin.user_activation_sheet", "admin.import_invite",
        "admin.import_units", "admin.import_units_template", "admin.audit", "settings.edit",
        "admin.sign_in_settings",
        "proposals.themes", "proposals.toggle_theme")},
    # The instance.
    "admin.institutions": frozenset({"instance_admin"}),
}
