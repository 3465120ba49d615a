"""About forty proposals in every state, with supports, comments and co-authors."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from ..audit.models import AuditEvent
from ..extensions import db
from ..organisation.models import OrgUnit
from ..people.models import User
from ..proposals.models import (
    CONTENT_FIELDS,
    CoAuthor,
    Comment,
    Proposal,
    ProposalVersion,
    Support,
    Theme,
)
from ..proposals.services import _refresh_search_text
from ..timeutil import today_paris, utcnow

THEMES = ["Services aux usagers", "Transition écologique", "Qualité de vie au travail",
          "Simplification administrative", "Numérique", "Bâtiments et patrimoine", "Solidarités"]

# (title, theme, problem, change, beneficiaries, gain, needs)
INITIATIVES = [
    ("Un carnet de santé numérique des bâtiments", "Bâtiments et patrimoine",
     "Les interventions sur les écoles et gymnases sont notées sur papier ou dans des tableurs différents ; on refait des diagnostics déjà faits.",
     "Un carnet partagé par bâtiment : interventions, contrôles réglementaires, points de vigilance, photos.",
     "Les agents techniques, les directeurs d'école, les gardiens ; indirectement les usagers des bâtiments.",
     "Moins de diagnostics en double, des contrôles réglementaires à l'heure, un historique qui ne part pas avec les agents.",
     "Deux agents du service Bâtiments à 10 % pendant six mois, l'appui de la DSI, pas de budget logiciel (outil libre)."),
    ("Un service mutualisé de petites réparations pour les écoles", "Bâtiments et patrimoine",
     "Les petites réparations (poignée, étagère, joint) attendent des semaines car elles passent par le circuit des gros travaux.",
     "Une équipe de deux agents polyvalents qui passe chaque semaine dans les écoles avec une liste partagée.",
     "Les équipes enseignantes et périscolaires, les enfants.",
     "Délai de réparation ramené de trois semaines à quelques jours.",
     "Réorganisation de deux postes existants, un véhicule utilitaire partagé."),
    ("Accueil unique : un même numéro pour toutes les démarches", "Services aux usagers",
     "Les habitants ne savent pas quel service appeler et sont transférés plusieurs fois.",
     "Un numéro unique tenu par l'accueil, avec une base de réponses partagée par les services.",
     "Les habitants, et les services soulagés des appels mal orientés.",
     "Moins d'appels transférés, réponse dès le premier contact dans la majorité des cas.",
     "Formation des agents d'accueil, une demi-journée par service pour rédiger les réponses."),
    ("Covoiturage entre agents pour les sites éloignés", "Transition écologique",
     "Le centre technique et la station d'épuration sont mal desservis ; chacun vient seul en voiture.",
     "Une bourse de covoiturage interne et deux places réservées aux covoitureurs.",
     "Les agents des sites éloignés.",
     "Économies de carburant, moins de stationnement, du lien entre services.",
     "Une page sur l'intranet, l'accord de la DRH pour le forfait mobilités durables."),
    ("Des gourdes et fontaines à la place des bouteilles en réunion", "Transition écologique",
     "Des centaines de petites bouteilles d'eau sont achetées chaque année pour les réunions.",
     "Installer des fontaines reliées au réseau dans les salles de réunion et offrir une gourde aux agents.",
     "Les agents, le budget de fonctionnement.",
     "Moins de déchets plastiques et d'achats récurrents.",
     "Budget d'installation estimé à 3 000 €, à amortir sur deux ans."),
    ("Simplifier l'inscription à la cantine en ligne", "Simplification administrative",
     "Les familles remplissent chaque année le même dossier papier, ressaisi par les agents.",
     "Un formulaire en ligne prérempli d'une année sur l'autre, avec dépôt des justificatifs.",
     "Les familles et les agents du service Écoles et périscolaire.",
     "Plusieurs semaines de ressaisie économisées à chaque rentrée.",
     "Paramétrage du portail famille existant, tests avec dix familles volontaires."),
    ("Une matinée d'accueil commune pour les nouveaux agents", "Qualité de vie au travail",
     "Les nouveaux arrivants découvrent la collectivité au fil de l'eau, sans vue d'ensemble.",
     "Une matinée mensuelle : présentation des directions, visite, déjeuner avec un agent parrain.",
     "Les nouveaux agents et leurs équipes.",
     "Intégration plus rapide, sentiment d'appartenance, moins de départs la première année.",
     "Une demi-journée par mois pour deux agents de la DRH, un budget repas modeste."),
    ("Un prêt de vélos à assistance électrique entre services", "Transition écologique",
     "Les déplacements courts entre sites se font en voiture de service, souvent indisponible.",
     "Une flotte de six vélos à assistance électrique réservable en ligne.",
     "Les agents qui se déplacent en ville dans la journée.",
     "Moins de demandes de véhicules, des trajets plus rapides en centre-ville.",
     "Achat de six vélos (subvention possible), un abri sécurisé, une formation courte."),
    ("Traduire les courriers types en langage clair", "Simplification administrative",
     "Les courriers de relance et de rejet sont incompris, ce qui multiplie les appels.",
     "Réécrire avec les agents et des habitants les vingt courriers les plus envoyés.",
     "Les usagers, les agents qui répondent au téléphone.",
     "Moins d'appels d'incompréhension, moins de recours.",
     "Un atelier d'écriture de deux jours, l'appui d'un agent de la communication."),
    ("Un atelier de réparation de matériel informatique", "Numérique",
     "Des ordinateurs encore utilisables sont jetés ; des associations en cherchent.",
     "Reconditionner le matériel réformé et le donner aux associations du CCAS.",
     "Les associations, les familles accompagnées par le CCAS.",
     "Moins de déchets électroniques, un geste de solidarité visible.",
     "Un technicien informatique à 10 %, un local, une convention avec le CCAS."),
    ("Des bancs et de l'ombre sur le parcours vers le marché", "Services aux usagers",
     "Les personnes âgées renoncent à venir à pied au marché faute de pauses possibles.",
     "Installer des bancs et planter des arbres sur le parcours principal.",
     "Les habitants âgés, les familles.",
     "Plus d'autonomie pour les seniors, des rues plus fraîches l'été.",
     "Budget d'investissement des espaces verts, concertation avec le conseil des sages."),
    ("Un répertoire des compétences rares des agents", "Qualité de vie au travail",
     "On fait appel à des prestataires pour des compétences que des agents ont déjà (langues, langue des signes, premiers secours).",
     "Un répertoire volontaire, consultable par les encadrants.",
     "Les services, les agents qui veulent valoriser leurs compétences.",
     "Des prestations évitées, des agents reconnus.",
     "Un formulaire, l'accord du comité social territorial, une mise à jour annuelle."),
    ("Éteindre l'éclairage des bâtiments la nuit", "Transition écologique",
     "Plusieurs bâtiments restent éclairés toute la nuit sans raison.",
     "Des horloges et détecteurs de présence, une tournée de vérification.",
     "Le budget énergie, la biodiversité nocturne.",
     "Une baisse sensible de la facture d'électricité.",
     "Matériel estimé à 8 000 €, une semaine d'un électricien du service Bâtiments."),
    ("Une permanence numérique à la médiathèque", "Numérique",
     "Des habitants n'arrivent pas à faire leurs démarches en ligne et viennent à l'accueil.",
     "Deux demi-journées par semaine d'accompagnement aux démarches, avec un conseiller numérique.",
     "Les habitants éloignés du numérique.",
     "Des démarches abouties, moins de files à l'accueil.",
     "Un poste de conseiller numérique cofinancé, deux ordinateurs."),
    ("Regrouper les commandes de fournitures des écoles", "Simplification administrative",
     "Chaque école commande séparément, avec des tarifs et des délais différents.",
     "Une commande groupée trimestrielle via la commande publique.",
     "Les écoles, le service Commande publique.",
     "Des économies d'échelle et moins de bons de commande.",
     "Un catalogue commun, deux réunions avec les directeurs d'école."),
    ("Un jardin partagé pour les agents du centre technique", "Qualité de vie au travail",
     "Un terrain inutilisé jouxte le centre technique.",
     "Un jardin potager entretenu par les agents volontaires sur la pause méridienne.",
     "Les agents du centre technique.",
     "Convivialité, lien entre équipes.",
     "Quelques outils, l'accord de la direction, des plants donnés par les Espaces verts."),
    ("Signaler un problème de voirie avec une photo", "Services aux usagers",
     "Les signalements de nids-de-poule arrivent par courrier, téléphone ou réseaux sociaux, sans localisation précise.",
     "Un formulaire simple avec photo et carte, relié au planning de la voirie.",
     "Les habitants, les équipes de voirie.",
     "Interventions mieux ciblées, réponse aux habitants.",
     "Paramétrage d'un outil existant, une formation des chefs d'équipe."),
    ("Une salle de repos pour les agents de l'état civil", "Qualité de vie au travail",
     "Les agents d'accueil déjeunent à leur poste faute de lieu.",
     "Aménager l'ancienne salle des archives en salle de repos.",
     "Les agents de l'état civil et de l'accueil.",
     "De vraies pauses, moins de fatigue en fin de journée.",
     "Petits travaux par le service Bâtiments, un mobilier simple."),
    ("Des repas végétariens deux fois par semaine", "Transition écologique",
     "La loi impose au moins un repas végétarien par semaine ; les familles en demandent plus.",
     "Passer à deux menus végétariens hebdomadaires, avec des recettes travaillées.",
     "Les enfants, les familles.",
     "Meilleure qualité des produits à budget constant.",
     "Formation des cuisiniers, accompagnement d'une diététicienne."),
    ("Un guide commun des procédures de la paie", "Simplification administrative",
     "Chaque gestionnaire a ses propres notes ; les absences désorganisent la paie.",
     "Un guide partagé et tenu à jour par l'équipe.",
     "Les gestionnaires paie, les agents payés à l'heure.",
     "Continuité de service pendant les congés.",
     "Quelques heures par mois pour chaque gestionnaire pendant un trimestre."),
    ("Accompagner les seniors isolés pendant la canicule", "Solidarités",
     "Le registre canicule est peu connu ; des personnes isolées ne sont pas appelées.",
     "Des appels par des agents volontaires formés, en lien avec le CCAS.",
     "Les personnes âgées isolées.",
     "Personne ne reste sans nouvelles pendant un épisode de canicule.",
     "Une formation d'une heure, un protocole commun avec le CCAS."),
    ("Des horaires d'ouverture le samedi matin pour l'état civil", "Services aux usagers",
     "Les actifs doivent poser une demi-journée pour une démarche d'état civil.",
     "Ouvrir un samedi matin sur deux, avec récupération pour les agents.",
     "Les habitants qui travaillent.",
     "Moins d'absences pour démarches, un service plus accessible.",
     "Volontariat des agents, une organisation des récupérations."),
    ("Une boîte à outils pour animer des réunions courtes", "Qualité de vie au travail",
     "Les réunions débordent, sans ordre du jour ni compte rendu.",
     "Des fiches simples (ordre du jour, tour de parole, décisions) et un atelier de deux heures.",
     "Tous les encadrants et leurs équipes.",
     "Du temps gagné et des décisions claires.",
     "Deux demi-journées de la mission innovation."),
]

OFFERS = [
    ("Une semaine à l'accueil unique", "Services aux usagers", "DRUC-ACC",
     "Accueillir les habitants aux côtés des agents, au guichet et au téléphone.",
     "Les questions que posent vraiment les habitants, les outils de l'accueil.",
     "Votre connaissance de votre service, pour mieux orienter les habitants.", 5),
    ("Trois jours avec les équipes de voirie", "Bâtiments et patrimoine", "DST-VOI",
     "Suivre les interventions de voirie et de propreté, de la demande au chantier.",
     "L'organisation d'une équipe de terrain, la sécurité des chantiers.",
     "Un regard extérieur sur nos circuits de signalement.", 3),
    ("Découvrir la médiathèque de l'intérieur", "Services aux usagers", "DRUC-MED",
     "Participer aux animations, à l'accueil et au traitement des collections.",
     "Les métiers du livre et de la médiation culturelle.",
     "Des idées pour toucher de nouveaux publics.", 4),
    ("Une immersion au service Petite enfance", "Solidarités", "DEES-PE",
     "Observer le quotidien d'une crèche et la gestion des inscriptions.",
     "Les contraintes d'un service d'accueil de jeunes enfants.",
     "Un regard neuf sur nos démarches d'inscription.", 3),
    ("Deux jours au service Commande publique", "Simplification administrative", "DFCP-CP",
     "Suivre la préparation d'une consultation, de l'expression du besoin à l'analyse.",
     "Comment rédiger un besoin clair et éviter les marchés infructueux.",
     "Votre expérience d'acheteur ou d'utilisateur final.", 2),
    ("Une semaine aux espaces verts", "Transition écologique", "DST-EV",
     "Participer à l'entretien différencié des parcs et aux plantations.",
     "La gestion écologique des espaces, le travail en extérieur.",
     "Un coup de main pendant la saison des plantations.", 5),
]

# (index in INITIATIVES or OFFERS as ("i", n) / ("o", n), state, days ago submitted, days in step)
PLAN = [
    ("i", 0, "accepted", 220, 150), ("i", 1, "accepted", 200, 120), ("i", 2, "accepted", 260, 200),
    ("i", 3, "rejected", 180, 100), ("i", 4, "accepted", 150, 90), ("i", 5, "changes_requested", 90, 20),
    ("i", 6, "accepted", 300, 240), ("i", 7, "scheduled", 45, 6), ("i", 8, "in_review", 30, 12),
    ("i", 9, "in_review", 28, 25), ("i", 10, "submitted", 5, 5), ("i", 11, "not_eligible", 120, 110),
    ("i", 12, "scheduled", 40, 8), ("i", 13, "submitted", 2, 2), ("i", 14, "rejected", 160, 80),
    ("i", 15, "withdrawn", 70, 50), ("i", 16, "in_review", 21, 15), ("i", 17, "submitted", 12, 12),
    ("i", 18, "accepted", 130, 60), ("i", 19, "in_review", 60, 40), ("i", 20, "submitted", 35, 35),
    ("i", 21, "changes_requested", 75, 30), ("i", 22, "submitted", 1, 1),
    ("o", 0, "accepted", 100, 70), ("o", 1, "in_review", 20, 10), ("o", 2, "submitted", 8, 8),
    ("o", 3, "accepted", 140, 110), ("o", 4, "scheduled", 25, 6), ("o", 5, "rejected", 110, 60),
]
DRAFTS = [("i", "Un annuaire des salles de réunion réservables en ligne", "Numérique"),
          ("i", "Mutualiser les véhicules de service entre directions", "Transition écologique"),
          ("o", "Une journée au service Paie et carrières", "Simplification administrative")]

COMMENTS = [
    "Très bonne idée, nous avons le même problème dans notre service.",
    "Attention aux contraintes réglementaires : il faudrait associer le service juridique.",
    "À Saint-Herblain, une démarche proche a bien fonctionné : https://exemple.fr/retour-experience",
    "Je veux bien donner un coup de main si le projet est retenu.",
    "Est-ce que cela a été chiffré ? Le budget me semble sous-estimé.",
    "Les usagers le demandent souvent à l'accueil, je confirme le besoin.",
    "On pourrait commencer par un test sur un seul site.",
]


def seed(named: dict[str, User]) -> None:
    rng = random.Random(4242)
    ville = named["agent"].institution
    today = today_paris()
    now = utcnow()
    themes = {name: Theme(institution=ville, name=name) for name in THEMES}
    db.session.add_all(themes.values())
    db.session.add(Theme(institution=ville, name="Plan de relance 2021", is_active=False))
    db.session.flush()
    agents = db.session.scalars(
        select(User).where(User.institution_id == ville.id, User.is_active.is_(True))
        .order_by(User.id)).all()
    units = {u.code: u for u in db.session.scalars(select(OrgUnit).where(OrgUnit.institution_id == ville.id))}
    authors = [named["agent"], named["collectif"], named["encadrant"]] + [
        a for a in agents if a.email not in {u.email for u in named.values()}]

    def add_event(proposal: Proposal, action: str, actor: User, at, data=None, public=True):
        db.session.add(AuditEvent(institution_id=ville.id, actor_id=actor.id, action=action,
                                  target_type="Proposal", target_id=proposal.id,
                                  data=data or {}, is_public=public, created_at=at))

    proposals: list[Proposal] = []
    for n, (kind_code, index, state, submitted_days, step_days) in enumerate(PLAN):
        author = authors[n % len(authors)] if n > 2 else [named["agent"], named["collectif"], named["agent"]][n]
        submitted_at = now - timedelta(days=submitted_days, hours=rng.randint(0, 8))
        if kind_code == "i":
            title, theme, problem, change, beneficiaries, gain, needs = INITIATIVES[index]
            proposal = Proposal(institution=ville, kind="initiative", author=author,
                                org_unit=author.org_unit, theme=themes[theme], title=title,
                                problem=problem, change=change, beneficiaries=beneficiaries,
                                gain=gain, needs=needs)
        else:
            title, theme, unit_code, mission, learning, contribution, days = OFFERS[index]
            host = units[unit_code]
            author = next((a for a in agents if a.org_unit_id == host.id), author)
            start = today + timedelta(days=rng.randint(100, 160))
            proposal = Proposal(institution=ville, kind="mobility", author=author, org_unit=host,
                                host_org_unit=host, contact=author, theme=themes[theme], title=title,
                                mission=mission, learning=learning, contribution=contribution,
                                duration_days=days, window_starts_on=start,
                                window_ends_on=start + timedelta(days=60), places=rng.choice([1, 1, 2]),
                                open_to=rng.choice(["institution", "partners"]))
            if unit_code == "DRUC-ACC":
                # The demo collective member hosts this one, so that the demo shows a host's view.
                proposal.contact, proposal.places = named["collectif"], 2
        proposal.state = state
        proposal.created_at = submitted_at - timedelta(days=rng.randint(1, 10))
        proposal.updated_at = proposal.submitted_at = submitted_at
        proposal.state_changed_at = now - timedelta(days=step_days, hours=rng.randint(0, 8))
        proposal.version_number = 2 if state == "changes_requested" and n % 2 else 1
        db.session.add(proposal)
        db.session.flush()
        for number in range(1, proposal.version_number + 1):
            db.session.add(ProposalVersion(
                proposal_id=proposal.id, number=number, submitted_by=author,
                created_at=submitted_at + timedelta(days=30 * (number - 1)),
                **{f: getattr(proposal, f) for f in CONTENT_FIELDS}))
        add_event(proposal, "proposal.submitted", author, submitted_at, {"version": 1})
        if state == "withdrawn":
            add_event(proposal, "proposal.withdrawn", author, proposal.state_changed_at,
                      {"from": "in_review", "to": "withdrawn"})
        proposals.append(proposal)

    # The demo agent co-signs one proposal and is invited on another.
    proposals[3].coauthors.append(CoAuthor(user=named["agent"], status="accepted",
                                           responded_at=proposals[3].submitted_at))
    proposals[8].coauthors.append(CoAuthor(user=named["agent"], status="invited"))
    proposals[0].coauthors.append(CoAuthor(user=named["encadrant"], status="accepted",
                                           responded_at=proposals[0].submitted_at))

    for kind_code, title, theme in DRAFTS:
        author = named["agent"] if kind_code == "i" else named["rh"]
        draft = Proposal(institution=ville, kind="initiative" if kind_code == "i" else "mobility",
                         author=author, org_unit=author.org_unit, theme=themes[theme], title=title,
                         problem="Chaque direction gère ses propres outils ; personne n'a de vue d'ensemble."
                         if kind_code == "i" else "",
                         created_at=now - timedelta(days=3), updated_at=now - timedelta(days=1),
                         state_changed_at=now - timedelta(days=3))
        if kind_code == "o":
            draft.host_org_unit = draft.org_unit
            draft.contact = author
        db.session.add(draft)
    db.session.flush()

    # Supports and comments, from a spread of agents; never on one's own proposal, never after now.
    def after_submission(proposal: Proposal, delay: timedelta) -> datetime:
        return min(proposal.submitted_at + delay, max(proposal.submitted_at, now - timedelta(minutes=30)))

    for proposal in proposals:
        backers = rng.sample(agents, k=rng.randint(0, 18))
        for backer in backers:
            if backer.id == proposal.author_id or any(c.user_id == backer.id for c in proposal.coauthors):
                continue
            db.session.add(Support(proposal_id=proposal.id, user_id=backer.id,
                                   created_at=after_submission(proposal, timedelta(days=rng.randint(0, 5)))))
            proposal.support_count += 1
        for k in range(rng.randint(0, 3)):
            commenter = rng.choice(agents)
            db.session.add(Comment(proposal_id=proposal.id, author_id=commenter.id,
                                   body=rng.choice(COMMENTS),
                                   created_at=after_submission(proposal, timedelta(days=k + 1, hours=rng.randint(1, 9)))))
            proposal.comment_count += 1
        _refresh_search_text(proposal)
    # A moderated comment, to show how hiding looks.
    hidden = Comment(proposal_id=proposals[2].id, author_id=agents[-1].id,
                     body="Encore une idée de bureau qui ne servira à rien.",
                     created_at=proposals[2].submitted_at + timedelta(days=2),
                     hidden_at=proposals[2].submitted_at + timedelta(days=3),
                     hidden_by_id=named["animation"].id,
                     hidden_reason="Message sans argument sur le fond, contraire à la charte de participation.")
    db.session.add(hidden)
    proposals[2].comment_count += 1
    db.session.flush()
