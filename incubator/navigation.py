"""Main navigation by role: each domain adds its entries here, in reading order."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for

from .people.hierarchy import is_approver


@dataclass
class NavItem:
    label: str
    endpoint: str
    prefix: str
    is_current: bool = False

    @property
    def url(self) -> str:
        return url_for(self.endpoint)


def navigation_for(user) -> list[NavItem]:
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
    # The most specific prefix wins, so that one item only is marked current.
    matches = [i for i in items if (request.path == "/" if i.prefix == "/" else request.path.startswith(i.prefix))]
    if matches:
        max(matches, key=lambda i: len(i.prefix)).is_current = True
    return items
