"""Main navigation by role: each domain adds its entries here, in reading order. The site
map (/plan-du-site) is drawn from the same lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from flask import request, url_for

from .people.hierarchy import is_approver
from .review import policy as review_policy


@dataclass
class NavItem:
    label: str
    endpoint: str
    prefix: str = ""
    is_current: bool = False
    # In a section's own navigation: the endpoints where the item is current ("admin.user*":
    # every endpoint starting so); none: only its own.
    current_for: tuple[str, ...] = ()
    # The pages of its section's own navigation, shown under it in the site map.
    children: list[NavItem] = field(default_factory=list)

    def is_current_for(self, endpoint: str | None) -> bool:
        endpoint = endpoint or ""
        return any(endpoint.startswith(e[:-1]) if e.endswith("*") else endpoint == e
                   for e in self.current_for or (self.endpoint,))

    @cached_property
    def url(self) -> str:
        # Asked twice per page (the wide menu and the narrow one).
        return url_for(self.endpoint)


def menu_items(user) -> list[NavItem]:
    """The main menu of `user`: the pages of their role, in reading order (none when signed out)."""
    if not getattr(user, "is_authenticated", False):
        return []
    items = [
        NavItem("Accueil", "core.home", "/"),
        NavItem("Propositions", "proposals.board", "/propositions"),
        NavItem("Mes propositions", "proposals.mine", "/mes-propositions"),
        NavItem("Arbitrage", "review.how", "/arbitrage"),
        NavItem("Réalisations", "projects.portfolio", "/realisations"),
        NavItem("Immersions", "immersions.index", "/immersions"),
        NavItem("Tableau de bord", "dashboard.index", "/tableau-de-bord"),
        NavItem("Mon temps", "release_time.week", "/mon-temps"),
        NavItem("Mon engagement", "engagement.mine", "/mon-engagement"),
    ]
    if user.has_role("hr"):
        items.append(NavItem("Relevé RH", "engagement.hr", "/rh/engagement"))
    if is_approver(user):
        items.append(NavItem("Validations", "release_time.approvals", "/validations"))
    if user.has_role("admin") or user.has_role("coordinator"):
        items.append(NavItem("Collectif pilote", "admin.collective", "/admin/collectif"))
    if user.has_role("admin"):
        items.append(NavItem("Administration", "admin.index", "/admin/"))
    if user.is_instance_admin:
        items.append(NavItem("Collectivités", "admin.institutions", "/admin/collectivites"))
    return items


def section_pages(section: str, user) -> list[NavItem]:
    """A section's own navigation (templates/<section>/_subnav.html), for `user`; the current
    page marked when in a request."""
    if section == "review":
        items = [
            NavItem("Comment nous décidons", "review.how"),
            NavItem("Journal des arbitrages", "review.journal"),
            NavItem("Séances", "review.sessions", current_for=("review.sessions", "review.session")),
        ]
        # The same predicates as the pages' guards (review/blueprint.py).
        if review_policy.member_pages_refusal(user) is None:
            items += [NavItem("À évaluer", "review.queue", current_for=("review.queue", "review.assess")),
                      NavItem("Délais", "review.waiting")]
        if review_policy.coordination_pages_refusal(user) is None:
            items += [NavItem("Recevabilité", "review.eligibility_queue", current_for=("review.eligib*",)),
                      NavItem("Réglages", "review.settings", current_for=("review.settings", "review.criterion"))]
    elif section == "admin":
        items = [
            NavItem("Vue d'ensemble", "admin.index"),
            NavItem("Directions et services", "admin.org_units", current_for=("admin.org_unit*",)),
            NavItem("Agents", "admin.users", current_for=("admin.user*",)),
            NavItem("Import des agents", "admin.import_users"),
            NavItem("Import des services", "admin.import_units"),
            NavItem("Thèmes", "proposals.themes", current_for=("proposals.*",)),
            NavItem("Collectif pilote", "admin.collective", current_for=("admin.collective*",)),
            NavItem("Paramètres", "settings.edit"),
            NavItem("Connexion", "admin.sign_in_settings"),
            NavItem("Journal d'audit", "admin.audit"),
        ]
    else:
        raise LookupError(section)
    if request:
        for item in items:
            item.is_current = item.is_current_for(request.endpoint)
    return items


def navigation_for(user) -> list[NavItem]:
    items = menu_items(user)
    # The most specific prefix wins, so that one item only is marked current.
    matches = [i for i in items if (request.path == "/" if i.prefix == "/" else request.path.startswith(i.prefix))]
    if matches:
        max(matches, key=lambda i: len(i.prefix)).is_current = True
    return items


# The menu entries whose section has its own navigation (asked only by the site map: the
# review's predicates cost queries the menu of every page need not make).
SECTIONS = {"review.how": "review", "admin.index": "admin"}


def with_sections(items: list[NavItem], user) -> list[NavItem]:
    """The menu with each section's pages under its entry, each page listed once (the
    section's first page is its menu entry; « Collectif pilote » is in the menu too)."""
    listed = {item.endpoint for item in items}
    for item in items:
        if item.endpoint in SECTIONS:
            item.children = [i for i in section_pages(SECTIONS[item.endpoint], user) if i.endpoint not in listed]
    return items


@dataclass
class SiteMapSection:
    title: str
    items: list[NavItem]


def site_map_for(user) -> list[SiteMapSection]:
    """The site map (RGAA 12.1, a second way to every page): the menu of the reader's role,
    then the pages the header and footer link to. Drawn from the menu itself, so that it
    never lists a page the reader cannot open nor forgets one the menu gains."""
    if getattr(user, "is_authenticated", False):
        sections = [
            SiteMapSection("Navigation principale", with_sections(menu_items(user), user)),
            SiteMapSection("Votre compte", [
                NavItem("Mon compte", "accounts.account", "/mon-compte"),
                NavItem("Notifications", "notifications.index", "/notifications"),
            ]),
        ]
    else:
        sections = [SiteMapSection("Connexion", [
            NavItem("Se connecter", "accounts.login", "/connexion"),
            NavItem("Mot de passe oublié", "accounts.forgot_password", "/mot-de-passe-oublie"),
            NavItem("Activer mon compte avec un code", "accounts.activate_with_code", "/activation"),
        ])]
    sections.append(SiteMapSection("Informations", [
        NavItem("Déclaration d'accessibilité", "core.accessibility", "/accessibilite"),
        NavItem("Données personnelles", "core.personal_data", "/donnees-personnelles"),
        NavItem("Plan du site", "core.site_map", "/plan-du-site"),
    ]))
    return sections
