"""Institutions, org units, ~60 agents with N+1 links, roles and the collectif pilote."""

from __future__ import annotations

import random
import unicodedata
from datetime import date, timedelta

from ..accounts.passwords import hash_password
from ..collective.models import CollectiveMembership
from ..extensions import db
from ..organisation.models import Institution, OrgUnit
from ..people.models import User, UserRole
from ..timeutil import today_paris

DIRECTIONS = [
    ("DGS", "Direction générale des services", [
        ("DGS-SG", "Secrétariat général"), ("DGS-INNOV", "Mission innovation et participation"),
    ]),
    ("DRH", "Direction des ressources humaines", [
        ("DRH-PAIE", "Paie et carrières"), ("DRH-FORM", "Formation et compétences"),
    ]),
    ("DFCP", "Direction des finances et de la commande publique", [
        ("DFCP-BUD", "Budget et comptabilité"), ("DFCP-CP", "Commande publique"),
    ]),
    ("DST", "Direction des services techniques", [
        ("DST-BAT", "Bâtiments"), ("DST-VOI", "Voirie et propreté"), ("DST-EV", "Espaces verts"),
    ]),
    ("DEES", "Direction de l'éducation, de l'enfance et des sports", [
        ("DEES-ECO", "Écoles et périscolaire"), ("DEES-PE", "Petite enfance"), ("DEES-SPO", "Sports"),
    ]),
    ("DRUC", "Direction de la relation aux usagers et de la citoyenneté", [
        ("DRUC-ACC", "Accueil unique"), ("DRUC-EC", "État civil et élections"),
        ("DRUC-MED", "Médiathèque"),
    ]),
]

FIRST_NAMES = [
    "Léa", "Hugo", "Chloé", "Lucas", "Manon", "Louis", "Inès", "Gabriel", "Jade", "Arthur",
    "Sarah", "Nathan", "Emma", "Théo", "Zoé", "Mathis", "Lina", "Rayan", "Alice", "Tom",
    "Anaïs", "Mehdi", "Julie", "Antoine", "Élodie", "Yanis", "Pauline", "Thomas", "Fatou",
    "Nicolas", "Céline", "Olivier", "Aurélie", "Samir", "Sandrine", "Pierre", "Valérie",
    "Franck", "Isabelle", "Stéphane", "Nathalie", "Éric", "Sylvie", "Laurent", "Hélène",
]
LAST_NAMES = [
    "Bernard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Michel", "Garcia",
    "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier",
    "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier",
    "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier",
    "Masson", "Marchand", "Duval", "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer",
    "Dufour", "Meunier", "Brun", "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet",
    "Gaillard", "Barbier", "Arnaud", "Martinez", "Gérard", "Roche", "Renard", "Schmitt",
]


def _ascii(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


class _Builder:
    def __init__(self, institution: Institution, domain: str, password_hash: str):
        self.institution = institution
        self.domain = domain
        self.password_hash = password_hash
        self.emails: set[str] = set()

    def unit(self, code: str, name: str, kind: str, parent: OrgUnit | None = None) -> OrgUnit:
        unit = OrgUnit(institution=self.institution, code=code, name=name, kind=kind, parent=parent)
        db.session.add(unit)
        return unit

    def user(self, first: str, last: str, category: str, unit: OrgUnit, manager: User | None,
             email: str | None = None, quotite: int = 100, roles: tuple[str, ...] = ()) -> User:
        if email is None:
            base = _ascii(f"{first}.{last}").lower().replace(" ", "-").replace("'", "")
            email, n = f"{base}@{self.domain}", 2
            while email in self.emails:
                email, n = f"{base}{n}@{self.domain}", n + 1
        self.emails.add(email)
        user = User(institution=self.institution, first_name=first, last_name=last,
                    email=email, password_hash=self.password_hash, category=category,
                    quotite=quotite, org_unit=unit, manager=manager)
        for role in roles:
            user.roles.append(UserRole(institution=self.institution, role=role))
        db.session.add(user)
        return user


def seed(password: str) -> dict[str, User]:
    """Create both institutions. Returns the named demo accounts by short name."""
    rng = random.Random(20261122)
    # One hash for every demo account: they share the documented password, and hashing
    # sixty times would make the demo slow to load for nothing.
    password_hash = hash_password(password)
    today = today_paris()

    ville = Institution(name="Ville de Belleville-sur-Loire", slug="belleville-sur-loire",
                        kind="commune", accent_color="#1f5f8b")
    db.session.add(ville)
    b = _Builder(ville, "belleville-sur-loire.fr", password_hash)
    directions: dict[str, OrgUnit] = {}
    services: dict[str, OrgUnit] = {}
    for code, name, children in DIRECTIONS:
        directions[code] = b.unit(code, name, "direction")
        for child_code, child_name in children:
            services[child_code] = b.unit(child_code, child_name, "service", directions[code])

    dgs = b.user("Marc", "Aubert", "A", directions["DGS"], None)
    named = {
        "admin": b.user("Claire", "Dubois", "A", services["DGS-SG"], dgs,
                        email="admin@demo.incubateur.fr", roles=("admin",)),
    }
    named["admin"].is_instance_admin = True
    directors = {"DGS": dgs}
    for code, _name, _children in DIRECTIONS[1:]:
        directors[code] = b.user(rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), "A",
                                 directions[code], dgs)
    named["animation"] = b.user("Nadia", "Rousseau", "A", services["DGS-INNOV"], dgs,
                                email="animation@demo.incubateur.fr", roles=("coordinator",))
    named["rh"] = b.user("Julien", "Moreau", "A", services["DRH-PAIE"], directors["DRH"],
                         email="rh@demo.incubateur.fr", roles=("hr",))
    named["encadrant"] = b.user("Karim", "Benali", "B", services["DST-BAT"], directors["DST"],
                                email="encadrant@demo.incubateur.fr")
    named["agent"] = b.user("Camille", "Martin", "C", services["DST-BAT"], named["encadrant"],
                            email="agent@demo.incubateur.fr")

    heads = {"DST-BAT": named["encadrant"], "DGS-INNOV": named["animation"]}
    for code, _name, children in DIRECTIONS:
        for child_code, _child_name in children:
            if child_code not in heads:
                heads[child_code] = b.user(rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES),
                                           rng.choice("AB"), services[child_code], directors[code])
    named["collectif"] = b.user("Sophie", "Lefèvre", "B", services["DRUC-ACC"],
                                heads["DRUC-ACC"], email="collectif@demo.incubateur.fr")
    staff: list[User] = []
    service_codes = sorted(services)
    while len(b.emails) < 62:
        code = service_codes[len(staff) % len(service_codes)]
        quotite = rng.choice([100] * 7 + [80, 80, 50])
        staff.append(b.user(rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES),
                            rng.choice("BCCC"), services[code], heads[code], quotite=quotite))
    for user in staff[:3]:
        user.manager = named["encadrant"]
        user.org_unit = services["DST-BAT"]
    db.session.flush()
    # Matricules (the HR report's first column), as the payroll gives them; a few agents
    # have none yet (recruited after the last payroll import): the report shows it empty.
    for n, user in enumerate(db.session.query(User).filter_by(institution_id=ville.id).order_by(User.id)):
        if n % 9 != 8:
            user.employee_number = f"{10230 + n * 37:06d}"

    # Collectif pilote: 9 volunteers of all categories, terms of two years.
    term_start = date(today.year - 1, 9, 1)
    members = [named["collectif"], named["animation"]]
    by_category = {c: [u for u in staff if u.category == c] for c in "ABC"}
    members += by_category["C"][:3] + by_category["B"][:2]
    members += [heads["DEES-PE"], heads["DFCP-CP"]]
    for member in members[:9]:
        db.session.add(CollectiveMembership(
            institution=ville, user=member, starts_on=term_start,
            ends_on=term_start + timedelta(days=730)))
    # A past member, so that terms visibly end.
    db.session.add(CollectiveMembership(
        institution=ville, user=by_category["B"][3], starts_on=date(today.year - 3, 9, 1),
        ends_on=date(today.year - 1, 8, 31)))

    ccas = Institution(name="CCAS de Belleville-sur-Loire", slug="ccas-belleville-sur-loire",
                       kind="ccas", accent_color="#7a4b94")
    db.session.add(ccas)
    c = _Builder(ccas, "ccas-belleville-sur-loire.fr", password_hash)
    direction = c.unit("CCAS-DIR", "Direction du CCAS", "direction")
    social = c.unit("CCAS-AS", "Action sociale", "service", direction)
    home_care = c.unit("CCAS-MAD", "Maintien à domicile", "service", direction)
    director = c.user("Françoise", "Lambert", "A", direction, None,
                      email="admin@ccas.demo.incubateur.fr", roles=("admin", "hr"))
    for unit, count in ((social, 3), (home_care, 4)):
        head = c.user(rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), "B", unit, director)
        for _ in range(count):
            c.user(rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), "C", unit, head,
                   quotite=rng.choice([100, 100, 80]))
    db.session.flush()
    named["ccas_admin"] = director
    return named


def seed_access(named: dict[str, User]) -> None:
    """Agents just imported, so that the administration's pages show every access state:
    two invited (one invitation expired), one never invited, and a road worker without a
    professional address, known by his identifier, whose activation sheet was printed.
    Added last: they have taken part in nothing yet."""
    from flask import current_app

    from ..accounts import tokens
    from ..accounts.models import AccountToken
    from ..audit.services import record
    from ..timeutil import utcnow

    admin = named["admin"]
    ville = admin.institution
    unit = db.session.query(OrgUnit).filter_by(institution_id=ville.id, code="DST-VOI").one()
    head = db.session.query(User).filter_by(org_unit_id=unit.id).order_by(User.id).first()
    newcomers = [
        ("Lina", "Ferreira", "lina.ferreira@belleville-sur-loire.fr", None, "invitation", 3),
        ("Hugo", "Tessier", "hugo.tessier@belleville-sur-loire.fr", None, "invitation", 10),
        ("Inès", "Marchetti", "ines.marchetti@belleville-sur-loire.fr", None, None, 0),
        ("Bruno", "Lefort", None, "m04512", "sheet", 2),  # his identifier is his matricule
    ]
    now = utcnow()
    for first, last, email, login_id, purpose, days_ago in newcomers:
        user = User(institution=ville, first_name=first, last_name=last, email=email, login_id=login_id,
                    employee_number=login_id.upper() if login_id else None,
                    password_hash=None, category="C", quotite=100, org_unit=unit, manager=head)
        db.session.add(user)
        db.session.flush()
        if purpose is None:
            continue
        sent_at = now - timedelta(days=days_ago)
        lifetime = current_app.config[tokens.LIFETIME_SETTINGS[purpose]]
        db.session.add(AccountToken(user_id=user.id, purpose=purpose, created_by_id=admin.id,
                                    token_hash=tokens.token_hash(tokens.new_link_token()),
                                    created_at=sent_at, expires_at=sent_at + lifetime))
        record("account.invited" if purpose == "invitation" else "account.activation_sheet", actor=admin,
               institution_id=ville.id, target=user)
    db.session.flush()
