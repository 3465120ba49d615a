"""The RGAA 4.1 audit grid of the Incubateur: the 106 criteria, for each whether the
application meets it, how that is checked (an automated test, or a manual procedure written
step by step) and why. The only place these facts live: the accessibility statement
(/accessibilite), the footer and docs/rgaa.md are all drawn from here.

After a change, regenerate the document: `python -m incubator.core.rgaa` (tests/core/test_rgaa.py
fails while docs/rgaa.md differs from this module).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

RGAA_VERSION = "4.1.2"
# The date of the audit, not of the page view: the statement must say when it was true.
AUDIT_DATE = date(2026, 11, 30)

C, NC, NA = "conforme", "non conforme", "non applicable"

THEMES: tuple[tuple[int, str, int], ...] = (
    # number, name, criteria count in RGAA 4.1
    (1, "Images", 9), (2, "Cadres", 2), (3, "Couleurs", 3), (4, "Multimédia", 13),
    (5, "Tableaux", 8), (6, "Liens", 2), (7, "Scripts", 5), (8, "Éléments obligatoires", 10),
    (9, "Structuration de l’information", 4), (10, "Présentation de l’information", 14),
    (11, "Formulaires", 13), (12, "Navigation", 11), (13, "Consultation", 12),
)


@dataclass(frozen=True)
class Check:
    """An automated check: what it verifies, and the files that do it."""

    label: str
    paths: tuple[str, ...]


# The automated checks the grid relies on. The browser ones run on every page a journey of
# tests/e2e passes to assert_accessible(), for the demo role signed in.
CHECKS: dict[str, Check] = {
    "axe": Check("axe-core, règles WCAG 2.1 A et AA, à 1 280 px et à 320 px de large, sur chaque page "
                 "vérifiée par les parcours du navigateur",
                 ("tests/e2e/validators.py", "tests/e2e/conftest.py")),
    "pa11y": Check("pa11y (HTML_CodeSniffer, norme WCAG2AA, erreurs) sur les mêmes pages",
                   ("tests/e2e/validators.py",)),
    "vnu": Check("Nu Html Checker (vnu.jar) sur le HTML envoyé par le serveur pour les mêmes pages",
                 ("tests/e2e/validators.py",)),
    "reflow": Check("Redistribution à 320 px : aucune page plus large que la fenêtre, éléments qui "
                    "débordent nommés", ("tests/e2e/validators.py", "tests/e2e/browser_checks.js")),
    "focus": Check("Indicateur de focus : chaque élément focalisable, atteint au clavier, a un contour "
                   "contrasté à 3:1 au moins avec le fond",
                   ("tests/e2e/browser_checks.js", "tests/e2e/validators.py")),
    "phone": Check("Parcours sur téléphone (390 et 320 px) : menu replié, aucune page plus large que "
                   "l'écran, texte des graphiques de 12 px au moins, compteur de notifications qui ne "
                   "décale rien", ("tests/e2e/test_phone_journeys.py",)),
    "no_js": Check("Parcours sans JavaScript : connexion, recherche et filtre d'une liste",
                   ("tests/e2e/test_foundation_journeys.py",)),
    "dashboard": Check("Graphiques : SVG role=\"img\" avec titre et description, tableau des données "
                       "équivalent",
                       ("tests/dashboard/test_dashboard.py", "tests/e2e/test_dashboard_journey.py")),
    "htmx_messages": Check("Réponse refusée à une requête htmx : message d'erreur affiché et annoncé "
                           "(role=\"alert\")", ("tests/e2e/test_htmx_messages_journey.py",)),
    "html_rules": Check("Pages de chaque rôle de démonstration : identifiants uniques, datalist "
                        "existantes, liste obligatoire commençant par un choix vide, niveaux de titres "
                        "sans saut, tableaux dans une zone défilable atteignable au clavier, titre "
                        "propre à chaque page d'une liste", ("tests/core/test_html_conformance.py",)),
    "error_summary": Check("Formulaires refusés : toutes les erreurs, récapitulatif avec des liens vers "
                           "les champs, focus, titre de page commençant par « Erreur : »",
                           ("tests/core/test_error_summary.py",
                            "tests/core/test_error_summary_everywhere.py")),
    "vote_screen": Check("Écran de vote : le choix fait est dit en texte (« votre vote ») et par "
                         "aria-pressed, pas seulement par la couleur",
                         ("tests/review/test_vote_screen.py",)),
    "site_map": Check("Plan du site de chaque rôle de démonstration et d'un visiteur non connecté : les "
                      "entrées du menu et des navigations de section, chaque lien ouvrant une page permise "
                      "à ce rôle ; lien « Plan du site » dans le pied de chaque page",
                      ("tests/core/test_site_map.py",)),
    "session": Check("Limites de la session : temps restant donné par la page et par chaque réponse, "
                     "« Rester connecté » (POST protégé contre la falsification, refusé sans session) qui "
                     "relance le délai d'inactivité, relèves automatiques sans effet sur ce délai, retour "
                     "à la page après reconnexion ; dans le navigateur, avertissement qui prend le focus, "
                     "prolongation au clavier, durée maximale annoncée, lien de reconnexion vers la page",
                     ("tests/accounts/test_session_limits.py", "tests/e2e/test_session_journey.py")),
    "guards": Check("Gabarits, feuille de style et script lus par le test : ni image hors graphiques, "
                    "ni cadre, ni média, ni tableau sans caption ou th sans scope, ni attribut style, "
                    "ni tabindex positif, ni raccourci clavier, ni fenêtre ouverte par script, ni flèche "
                    "ou symbole lu par les technologies d'assistance ; type "
                    "de document, langue fr et lien d'évitement dans la mise en page",
                    ("tests/core/test_rgaa.py",)),
}


@dataclass(frozen=True)
class Procedure:
    """A manual check, step by step, for what no tool can judge."""

    title: str
    steps: tuple[str, ...]


PROCEDURES: dict[str, Procedure] = {
    "clavier": Procedure("Au clavier seul", (
        "Ouvrir chaque page de la liste des pages auditées dans Firefox, sans souris.",
        "Appuyer sur Tab : le premier élément atteint est « Aller au contenu » ; Entrée place le "
        "focus sur le contenu principal.",
        "Parcourir toute la page avec Tab puis Maj+Tab : chaque élément qui reçoit le focus est "
        "visiblement entouré, l'ordre suit l'ordre de lecture, on peut toujours revenir en arrière "
        "(aucun piège).",
        "Activer chaque lien, bouton, case et liste avec Entrée, Espace ou les flèches ; à 320 px, "
        "ouvrir et fermer le « Menu » au clavier.",
        "Sur la charte d'un projet, chercher un agent, atteindre la liste des suggestions avec Tab "
        "et en choisir un ; sur le tableau de bord, ouvrir « Tableau des données ».",
        "Noter toute fonction impossible au clavier, tout focus invisible ou perdu après une mise à "
        "jour de la page.",
    )),
    "lecteur_ecran": Procedure("Avec un lecteur d'écran", (
        "Firefox et NVDA (Windows), navigation au clavier.",
        "Sur chaque page auditée, lister les titres (NVDA+F7) : un seul titre de niveau 1, une "
        "hiérarchie sans saut ; lister les régions : en-tête, navigation principale, contenu, pied "
        "de page.",
        "Lister les liens : chacun se comprend hors contexte (ou avec le titre de son tableau, de "
        "sa carte).",
        "Filtrer une liste (propositions, agents) : le nombre de résultats est annoncé ; soutenir "
        "une proposition : la confirmation est annoncée.",
        "Envoyer un formulaire vide : le récapitulatif des erreurs est lu, chacun de ses liens mène "
        "au champ.",
        "Tableau de bord : chaque graphique est annoncé comme une image avec son titre et sa "
        "description ; le tableau des données se lit cellule par cellule avec ses en-têtes.",
    )),
    "sans_css": Procedure("Sans feuille de style", (
        "Dans Firefox : Affichage > Style de la page > Aucun style.",
        "Sur chaque page auditée, vérifier que tout le contenu porteur d'information est présent et "
        "se lit dans un ordre compréhensible.",
        "Vérifier qu'aucune information n'était donnée par un contenu généré en CSS, et que les "
        "éléments masqués (attribut hidden) restent masqués.",
    )),
    "zoom": Procedure("Texte agrandi à 200 %", (
        "Dans Firefox : Affichage > Zoom > Zoom texte seulement, puis Ctrl++ jusqu'à 200 %.",
        "Sur chaque page auditée, vérifier qu'aucun texte n'est tronqué, masqué ou chevauché, et "
        "que chaque étiquette reste à côté de son champ.",
    )),
    "espacement": Procedure("Espacement du texte redéfini", (
        "Appliquer la feuille de style utilisateur : line-height 1.5 ; espacement après les "
        "paragraphes 2em ; letter-spacing 0.12em ; word-spacing 0.16em (par exemple avec le favori "
        "« Text spacing » de Steve Faulkner).",
        "Sur chaque page auditée, vérifier qu'aucun texte n'est coupé ni recouvert, et que les "
        "boutons, badges et cellules de tableaux restent lisibles.",
    )),
    "couleurs": Procedure("Couleurs et contrastes", (
        "Dans les outils de développement de Chromium : Rendering > Emulate vision deficiencies > "
        "Achromatopsia.",
        "Vérifier que l'état d'une proposition, d'un projet, d'une déclaration d'heures, le vote "
        "choisi, les erreurs et les champs obligatoires restent compréhensibles.",
        "Pour chaque collectivité, mesurer le contraste de sa couleur d'accent (table institutions, "
        "colonne accent_color) sur le blanc avec le Colour Contrast Analyser : 4,5:1 au moins.",
    )),
    "contenus": Procedure("Pertinence des contenus", (
        "Relire chaque page auditée : titre de la page, titres, intitulés de liens et de boutons, "
        "étiquettes et légendes de champs, titres de tableaux, titres et descriptions de graphiques "
        "décrivent bien leur objet.",
        "Vérifier qu'un même champ porte la même étiquette partout, qu'aucune consigne ne renvoie à "
        "une forme, une taille ou une position, et qu'aucun symbole n'est employé seul à la place "
        "d'un mot.",
        "Vérifier les valeurs autocomplete des champs qui concernent la personne (identifiant, "
        "adresse, mots de passe).",
    )),
    "donnees": Procedure("Données modifiables ou confirmées", (
        "Déclarer des heures, puis les modifier avant validation ; supprimer une ligne.",
        "Désactiver un compte, fermer une unité, retirer une proposition : une page ou une demande "
        "de confirmation précède l'action.",
        "Publier une décision, puis la corriger par une décision rectificative.",
    )),
    "documents": Procedure("Fichiers téléchargés", (
        "Télécharger chaque export : CSV du tableau de bord, du journal des décisions et des "
        "modèles d'import, CSV et XLSX du suivi RH.",
        "L'ouvrir dans LibreOffice Calc : une ligne d'en-têtes nomme chaque colonne, une ligne par "
        "enregistrement, sans cellule fusionnée, sans image, sans mise en forme porteuse "
        "d'information ; chaque feuille XLSX est nommée.",
        "Ouvrir le fichier XLSX dans Excel : Révision > Vérifier l'accessibilité ne relève aucune "
        "erreur.",
    )),
    "orientation": Procedure("Orientation de l'écran", (
        "Sur un téléphone (ou Chromium en mode appareil, 390 × 844), afficher chaque page auditée "
        "en portrait puis en paysage.",
        "Vérifier que tout le contenu et toutes les fonctions restent disponibles dans les deux "
        "orientations.",
    )),
    "temps": Procedure("Limites de temps", (
        "Sur un serveur de recette, raccourcir les durées dans instance/config.py "
        "(SESSION_IDLE_TIMEOUT = timedelta(minutes=10), PERMANENT_SESSION_LIFETIME = "
        "timedelta(minutes=30), SESSION_WARNING_SECONDS = 120), se connecter et commencer à "
        "remplir un formulaire.",
        "Sans rien faire, attendre l'avertissement (2 minutes avant la fin) : il est annoncé par le "
        "lecteur d'écran, le focus est sur « Rester connecté » ; appuyer sur Entrée : « Votre session "
        "est prolongée » est annoncé, le focus revient où il était, le formulaire est intact.",
        "Laisser passer l'avertissement suivant sans répondre : « Votre session a pris fin » ; le lien "
        "« Se reconnecter » ramène, après connexion, à la même page.",
        "Avec une activité régulière, attendre l'avertissement de la durée maximale : il le dit, et "
        "« J'ai compris » le ferme.",
    )),
}

# Pages and journeys audited: those the browser journeys visit for each demo role.
AUDITED_PAGES: tuple[tuple[str, str], ...] = (
    ("Connexion, mot de passe oublié, activation d'un compte", "/connexion"),
    ("Accueil (ce qui attend l'agent)", "/"),
    ("Propositions : liste, recherche et filtres, dépôt d'une initiative ou d'une offre "
     "d'immersion, fiche, soutien, commentaires", "/propositions"),
    ("Arbitrage : recevabilité, séance, évaluation, vote, décision, journal des décisions",
     "/seances"),
    ("Projets : portefeuille, fiche, charte et équipe", "/projets"),
    ("Temps libéré : semaine d'un agent, validations de l'encadrant", "/mon-temps"),
    ("Immersions", "/immersions"),
    ("Engagement : suivi RH, fiche de l'agent", "/rh"),
    ("Tableau de bord et ses graphiques", "/tableau-de-bord"),
    ("Notifications et préférences", "/notifications/"),
    ("Administration : agents, services, collectif, import, journal, collectivités", "/admin/"),
    ("Mon compte, déclaration d'accessibilité, données personnelles, plan du site", "/mon-compte"),
)

TECHNOLOGIES: tuple[str, ...] = ("HTML5", "CSS", "JavaScript (htmx)", "SVG", "WAI-ARIA")

# Derogations for disproportionate burden, and content outside the obligation (the model
# statement's two lists): none claimed. A non-conformity stays a non-conformity until fixed.
DEROGATIONS: tuple[str, ...] = ()
EXEMPT_CONTENT: tuple[str, ...] = ()

TOOLS: tuple[str, ...] = (
    "axe-core (Deque), règles WCAG 2.1 A et AA",
    "pa11y avec HTML_CodeSniffer (WCAG2AA)",
    "Nu Html Checker (W3C, vnu.jar)",
    "Chromium (Debian) piloté par Playwright, à 1 280 px et à 320 px de large",
    "Revue des gabarits, de la feuille de style et du script ; procédures manuelles (clavier, "
    "Firefox et NVDA)",
)


@dataclass(frozen=True)
class Criterion:
    number: str               # "11.10"
    title: str                # the wording of RGAA 4.1
    status: str               # C, NC or NA
    checks: tuple[str, ...]   # keys of CHECKS
    manual: tuple[str, ...]   # keys of PROCEDURES
    note: str                 # for this application: why it is met, not met or not applicable

    @property
    def theme(self) -> int:
        return int(self.number.split(".")[0])


CRITERIA: tuple[Criterion, ...] = (
    # 1. Images
    Criterion("1.1", "Chaque image porteuse d’information a-t-elle une alternative textuelle ?",
              C, ("axe", "pa11y", "dashboard"), ("lecteur_ecran",),
              'Les seules images sont les graphiques du tableau de bord : des SVG role="img" nommés par leur titre et leur description.'),
    Criterion("1.2", "Chaque image de décoration est-elle correctement ignorée par les technologies d’assistance ?",
              NA, ("guards",), (),
              "Aucune image de décoration : les pastilles et filets sont dessinés en CSS, l'icône du site n'est pas dans la page."),
    Criterion("1.3", "Pour chaque image porteuse d’information ayant une alternative textuelle, cette alternative est-elle pertinente (hors cas particuliers) ?",
              C, ("dashboard",), ("contenus",),
              "Le nom d'un graphique est son titre, sa description dit ce qu'il montre."),
    Criterion("1.4", "Pour chaque image utilisée comme CAPTCHA ou comme image-test, ayant une alternative textuelle, cette alternative permet-elle d’identifier la nature et la fonction de l’image ?",
              NA, ("guards",), (),
              "Aucun CAPTCHA."),
    Criterion("1.5", "Pour chaque image utilisée comme CAPTCHA, une solution d’accès alternatif au contenu ou à la fonction du CAPTCHA est-elle présente ?",
              NA, ("guards",), (),
              "Aucun CAPTCHA."),
    Criterion("1.6", "Chaque image porteuse d’information a-t-elle, si nécessaire, une description détaillée ?",
              C, ("dashboard",), ("lecteur_ecran",),
              "Chaque graphique est suivi d'un « Tableau des données » (balise details) qui en donne toutes les valeurs."),
    Criterion("1.7", "Pour chaque image porteuse d’information ayant une description détaillée, cette description est-elle pertinente ?",
              C, ("dashboard",), ("contenus",),
              "Le tableau reprend chaque libellé et chaque valeur du graphique, y compris « moins de 5 » et « masqué »."),
    Criterion("1.8", "Chaque image texte porteuse d’information, en l’absence d’un mécanisme de remplacement, doit si possible être remplacée par du texte stylé. Cette règle est-elle respectée (hors cas particuliers) ?",
              NA, ("guards",), (),
              "Aucune image texte."),
    Criterion("1.9", "Chaque légende d’image est-elle, si nécessaire, correctement reliée à l’image correspondante ?",
              NA, ("guards",), (),
              "Aucune image légendée (pas de figure ni figcaption)."),
    # 2. Cadres
    Criterion("2.1", "Chaque cadre a-t-il un titre de cadre ?",
              NA, ("guards",), (),
              "Aucun cadre (iframe, frame)."),
    Criterion("2.2", "Pour chaque cadre ayant un titre de cadre, ce titre de cadre est-il pertinent ?",
              NA, ("guards",), (),
              "Aucun cadre."),
    # 3. Couleurs
    Criterion("3.1", "Dans chaque page web, l’information ne doit pas être donnée uniquement par la couleur. Cette règle est-elle respectée ?",
              C, ("axe", "vote_screen"), ("couleurs",),
              "Un état (proposition, projet, heures) est toujours écrit en texte ; le vote choisi dit « votre vote » ; une erreur est écrite ; un champ obligatoire porte « (obligatoire) » ; les liens du texte sont soulignés."),
    Criterion("3.2", "Dans chaque page web, le contraste entre la couleur du texte et la couleur de son arrière-plan est-il suffisamment élevé (hors cas particuliers) ?",
              C, ("axe", "pa11y"), ("couleurs",),
              "Vérifié avec les couleurs de démonstration. La couleur d'accent d'une collectivité doit garder 4,5:1 sur le blanc (procédure « couleurs »)."),
    Criterion("3.3", "Dans chaque page web, les couleurs utilisées dans les composants d’interface ou les éléments graphiques porteurs d’informations sont-elles suffisamment contrastées (hors cas particuliers) ?",
              C, ("focus", "axe"), ("couleurs",),
              "Bordures des champs #767b82 (4,3:1 sur le blanc), indicateur de focus vérifié à 3:1 au moins."),
    # 4. Multimédia
    Criterion("4.1", "Chaque média temporel pré-enregistré a-t-il, si nécessaire, une transcription textuelle ou une audiodescription (hors cas particuliers) ?",
              NA, ("guards",), (),
              "Aucun média temporel (vidéo, son)."),
    Criterion("4.2", "Pour chaque média temporel pré-enregistré ayant une transcription textuelle ou une audiodescription synchronisée, celles-ci sont-elles pertinentes (hors cas particuliers) ?",
              NA, ("guards",), (),
              "Aucun média temporel."),
    Criterion("4.3", "Chaque média temporel synchronisé pré-enregistré a-t-il, si nécessaire, des sous-titres synchronisés (hors cas particuliers) ?",
              NA, ("guards",), (),
              "Aucun média temporel."),
    Criterion("4.4", "Pour chaque média temporel synchronisé pré-enregistré ayant des sous-titres synchronisés, ces sous-titres sont-ils pertinents ?",
              NA, ("guards",), (),
              "Aucun média temporel."),
    Criterion("4.5", "Chaque média temporel pré-enregistré a-t-il, si nécessaire, une audiodescription synchronisée (hors cas particuliers) ?",
              NA, ("guards",), (),
              "Aucun média temporel."),
    Criterion("4.6", "Pour chaque média temporel pré-enregistré ayant une audiodescription synchronisée, celle-ci est-elle pertinente ?",
              NA, ("guards",), (),
              "Aucun média temporel."),
    Criterion("4.7", "Chaque média temporel est-il clairement identifiable (hors cas particuliers) ?",
              NA, ("guards",), (),
              "Aucun média temporel."),
    Criterion("4.8", "Chaque média non temporel a-t-il, si nécessaire, une alternative (hors cas particuliers) ?",
              NA, ("guards",), (),
              "Aucun média non temporel (object, embed, canvas)."),
    Criterion("4.9", "Pour chaque média non temporel ayant une alternative, cette alternative est-elle pertinente ?",
              NA, ("guards",), (),
              "Aucun média non temporel."),
    Criterion("4.10", "Chaque son déclenché automatiquement est-il contrôlable par l’utilisateur ?",
              NA, ("guards",), (),
              "Aucun son."),
    Criterion("4.11", "La consultation de chaque média temporel est-elle, si nécessaire, contrôlable par le clavier et tout dispositif de pointage ?",
              NA, ("guards",), (),
              "Aucun média temporel."),
    Criterion("4.12", "La consultation de chaque média non temporel est-elle contrôlable par le clavier et tout dispositif de pointage ?",
              NA, ("guards",), (),
              "Aucun média non temporel."),
    Criterion("4.13", "Chaque média temporel et non temporel est-il compatible avec les technologies d’assistance (hors cas particuliers) ?",
              NA, ("guards",), (),
              "Aucun média."),
    # 5. Tableaux
    Criterion("5.1", "Chaque tableau de données complexe a-t-il un résumé ?",
              NA, (), ("contenus",),
              "Aucun tableau de données complexe : chaque tableau a une seule ligne d'en-têtes de colonnes."),
    Criterion("5.2", "Pour chaque tableau de données complexe ayant un résumé, celui-ci est-il pertinent ?",
              NA, (), ("contenus",),
              "Aucun tableau de données complexe."),
    Criterion("5.3", "Pour chaque tableau de mise en forme, le contenu linéarisé reste-t-il compréhensible ?",
              NA, ("guards",), (),
              "Aucun tableau de mise en forme : la mise en page est en CSS."),
    Criterion("5.4", "Pour chaque tableau de données ayant un titre, le titre est-il correctement associé au tableau de données ?",
              C, ("guards", "axe"), (),
              "Chaque tableau a une balise caption."),
    Criterion("5.5", "Pour chaque tableau de données ayant un titre, celui-ci est-il pertinent ?",
              C, (), ("contenus",),
              "Les titres des tableaux reprennent le titre de la liste ou du graphique."),
    Criterion("5.6", "Pour chaque tableau de données, chaque en-tête de colonne et chaque en-tête de ligne sont-ils correctement déclarés ?",
              C, ("guards", "axe", "pa11y"), (),
              "Chaque en-tête est une balise th avec scope."),
    Criterion("5.7", "Pour chaque tableau de données, la technique appropriée permettant d’associer chaque cellule avec ses en-têtes est-elle utilisée (hors cas particuliers) ?",
              C, ("guards", "axe"), (),
              'En-têtes th avec scope="col" ou scope="row".'),
    Criterion("5.8", "Chaque tableau de mise en forme ne doit pas utiliser d’éléments propres aux tableaux de données. Cette règle est-elle respectée ?",
              NA, ("guards",), (),
              "Aucun tableau de mise en forme."),
    # 6. Liens
    Criterion("6.1", "Chaque lien est-il explicite (hors cas particuliers) ?",
              C, ("axe", "pa11y"), ("lecteur_ecran", "contenus"),
              "Les liens répétés « Données en CSV » sont complétés par un texte masqué qui nomme leur graphique ; les numéros de page sont nommés « Page 2 », « Page 3 »…"),
    Criterion("6.2", "Dans chaque page web, chaque lien a-t-il un intitulé ?",
              C, ("axe", "pa11y"), (),
              ""),
    # 7. Scripts
    Criterion("7.1", "Chaque script est-il, si nécessaire, compatible avec les technologies d’assistance ?",
              C, ("axe", "no_js"), ("lecteur_ecran",),
              "htmx ne fait que remplacer des blocs ; toutes les fonctions marchent aussi sans JavaScript. La liste de suggestions d'agents annonce son nombre de résultats (aria-live)."),
    Criterion("7.2", "Pour chaque script ayant une alternative, cette alternative est-elle pertinente ?",
              C, ("no_js",), ("clavier",),
              "Sans JavaScript, chaque fonction passe par un formulaire ou un lien ordinaire (parcours testé)."),
    Criterion("7.3", "Chaque script est-il contrôlable par le clavier et par tout dispositif de pointage (hors cas particuliers) ?",
              C, ("html_rules", "focus"), ("clavier",),
              "Les éléments scriptés sont des liens, boutons et champs natifs ; les tableaux larges défilent dans une zone atteignable au clavier."),
    Criterion("7.4", "Pour chaque script qui initie un changement de contexte, l’utilisateur est-il averti ou en a-t-il le contrôle ?",
              C, (), ("clavier", "lecteur_ecran"),
              "Les filtres des listes mettent à jour les résultats sous le formulaire sans déplacer le focus ni ouvrir de fenêtre ; les autres changements passent par un bouton ou un lien."),
    Criterion("7.5", "Dans chaque page web, les messages de statut sont-ils correctement restitués par les technologies d’assistance ?",
              C, ("axe", "htmx_messages"), ("lecteur_ecran",),
              'Nombre de résultats, messages de confirmation : role="status" ; erreurs (y compris une réponse refusée à une requête htmx) : role="alert".'),
    # 8. Éléments obligatoires
    Criterion("8.1", "Chaque page web est-elle définie par un type de document ?",
              C, ("vnu", "guards"), (),
              ""),
    Criterion("8.2", "Pour chaque page web, le code source généré est-il valide selon le type de document spécifié ?",
              C, ("vnu", "html_rules"), (),
              "Attributs htmx écrits data-hx-*, identifiants uniques, datalist existantes, listes obligatoires avec un premier choix vide."),
    Criterion("8.3", "Dans chaque page web, la langue par défaut est-elle présente ?",
              C, ("guards", "axe"), (),
              'lang="fr" dans la mise en page commune.'),
    Criterion("8.4", "Pour chaque page web ayant une langue par défaut, le code de langue est-il pertinent ?",
              C, ("guards", "axe"), (),
              ""),
    Criterion("8.5", "Chaque page web a-t-elle un titre de page ?",
              C, ("axe", "vnu"), (),
              ""),
    Criterion("8.6", "Pour chaque page web ayant un titre de page, ce titre est-il pertinent ?",
              C, ("html_rules", "error_summary"), ("contenus",),
              "Le titre dit la page puis la collectivité ; la page 2 d'une liste dit son numéro ; un formulaire refusé commence par « Erreur : »."),
    Criterion("8.7", "Dans chaque page web, chaque changement de langue est-il indiqué dans le code source (hors cas particuliers) ?",
              NA, (), ("contenus",),
              "L'interface est entièrement en français ; les textes saisis par les agents ne sont pas des contenus de l'éditeur."),
    Criterion("8.8", "Dans chaque page web, le code de langue de chaque changement de langue est-il valide et pertinent ?",
              NA, (), ("contenus",),
              "Aucun changement de langue."),
    Criterion("8.9", "Dans chaque page web, les balises ne doivent pas être utilisées uniquement à des fins de présentation. Cette règle est-elle respectée ?",
              C, ("vnu",), ("sans_css",),
              ""),
    Criterion("8.10", "Dans chaque page web, les changements du sens de lecture sont-ils signalés ?",
              NA, (), (),
              "Aucun texte écrit de droite à gauche."),
    # 9. Structuration de l’information
    Criterion("9.1", "Dans chaque page web, l’information est-elle structurée par l’utilisation appropriée de titres ?",
              C, ("html_rules", "axe"), ("lecteur_ecran",),
              "Un seul h1 par page, aucun niveau de titre sauté."),
    Criterion("9.2", "Dans chaque page web, la structure du document est-elle cohérente (hors cas particuliers) ?",
              C, ("axe", "pa11y"), ("lecteur_ecran",),
              "En-tête (header), navigation (nav nommée), contenu (main), pied de page (footer)."),
    Criterion("9.3", "Dans chaque page web, chaque liste est-elle correctement structurée ?",
              C, ("axe", "vnu"), (),
              ""),
    Criterion("9.4", "Dans chaque page web, chaque citation est-elle correctement indiquée ?",
              C, (), ("contenus",),
              "Le commentaire cité avant d'être masqué est dans une balise blockquote."),
    # 10. Présentation de l’information
    Criterion("10.1", "Dans le site web, des feuilles de styles sont-elles utilisées pour contrôler la présentation de l’information ?",
              C, ("guards",), (),
              "Une seule feuille de style, aucun attribut style (la politique de sécurité l'interdit)."),
    Criterion("10.2", "Dans chaque page web, le contenu visible porteur d’information reste-t-il présent lorsque les feuilles de styles sont désactivées ?",
              C, (), ("sans_css",),
              ""),
    Criterion("10.3", "Dans chaque page web, l’information reste-t-elle compréhensible lorsque les feuilles de styles sont désactivées ?",
              C, (), ("sans_css",),
              "Le menu est répété pour les écrans étroits : sans styles, il apparaît deux fois, dans le même ordre."),
    Criterion("10.4", "Dans chaque page web, le texte reste-t-il lisible lorsque la taille des caractères est augmentée jusqu’à 200 %, au moins (hors cas particuliers) ?",
              C, ("reflow",), ("zoom",),
              ""),
    Criterion("10.5", "Dans chaque page web, les déclarations CSS de couleurs de fond d’élément et de police sont-elles correctement utilisées ?",
              C, (), ("couleurs",),
              "Couleur de fond et couleur du texte déclarées ensemble (corps de page, champs, boutons, badges)."),
    Criterion("10.6", "Dans chaque page web, chaque lien dont la nature n’est pas évidente est-il visible par rapport au texte environnant ?",
              C, ("axe",), (),
              "Les liens du texte sont soulignés (règle axe link-in-text-block)."),
    Criterion("10.7", "Dans chaque page web, pour chaque élément recevant le focus, la prise de focus est-elle visible ?",
              C, ("focus",), ("clavier",),
              "Contour de focus de 3 px, contrasté à 3:1 au moins sur le fond."),
    Criterion("10.8", "Pour chaque page web, les contenus cachés ont-ils vocation à être ignorés par les technologies d’assistance ?",
              C, ("axe", "no_js"), ("lecteur_ecran",),
              "Les éléments réservés au JavaScript (data-js-only) ou à une largeur d'écran sont masqués par hidden ou display: none, et les textes pour lecteurs d'écran par la classe visually-hidden."),
    Criterion("10.9", "Dans chaque page web, l’information ne doit pas être donnée uniquement par la forme, taille ou position. Cette règle est-elle respectée ?",
              C, (), ("contenus",),
              "Aucune consigne ne renvoie à une forme ou à une position (« à droite », « le bouton rond »)."),
    Criterion("10.10", "Dans chaque page web, l’information ne doit pas être donnée par la forme, taille ou position uniquement. Cette règle est-elle implémentée de façon pertinente ?",
              C, (), ("contenus",),
              ""),
    Criterion("10.11", "Pour chaque page web, les contenus peuvent-ils être présentés sans perte d’information ou de fonctionnalité et sans avoir recours soit à un défilement vertical pour une fenêtre ayant une hauteur de 256 px, soit à un défilement horizontal pour une fenêtre ayant une largeur de 320 px (hors cas particuliers) ?",
              C, ("reflow", "phone", "html_rules"), (),
              "À 320 px aucune page n'est plus large que l'écran ; les tableaux défilent dans leur propre zone, atteignable au clavier."),
    Criterion("10.12", "Dans chaque page web, les propriétés d’espacement du texte peuvent-elles être redéfinies par l’utilisateur sans perte de contenu ou de fonctionnalité (hors cas particuliers) ?",
              C, (), ("espacement",),
              ""),
    Criterion("10.13", "Dans chaque page web, les contenus additionnels apparaissant à la prise de focus ou au survol d’un composant d’interface sont-ils contrôlables par l’utilisateur (hors cas particuliers) ?",
              NA, (), ("clavier",),
              "Aucune infobulle ni contenu qui apparaisse au survol ou à la prise de focus."),
    Criterion("10.14", "Dans chaque page web, les contenus additionnels apparaissant via les styles CSS uniquement peuvent-ils être rendus visibles au clavier et par tout dispositif de pointage ?",
              NA, (), ("clavier",),
              "Aucun contenu révélé par le seul CSS au survol ou au focus (les menus dépliables sont des balises details)."),
    # 11. Formulaires
    Criterion("11.1", "Chaque champ de formulaire a-t-il une étiquette ?",
              C, ("axe", "pa11y", "vnu"), (),
              ""),
    Criterion("11.2", "Chaque étiquette associée à un champ de formulaire est-elle pertinente (hors cas particuliers) ?",
              C, ("axe",), ("contenus",),
              ""),
    Criterion("11.3", "Dans chaque formulaire, chaque étiquette associée à un champ de formulaire ayant la même fonction et répétée plusieurs fois dans une même page ou dans un ensemble de pages est-elle cohérente ?",
              C, (), ("contenus",),
              "Mêmes étiquettes pour les mêmes champs (« Rechercher », « Adresse électronique »…), tirées des mêmes formulaires."),
    Criterion("11.4", "Dans chaque formulaire, chaque étiquette de champ et son champ associé sont-ils accolés (hors cas particuliers) ?",
              C, (), ("contenus",),
              "L'étiquette est toujours juste au-dessus de son champ (case à cocher : juste à droite)."),
    Criterion("11.5", "Dans chaque formulaire, les champs de même nature sont-ils regroupés, si nécessaire ?",
              C, ("axe",), ("lecteur_ecran",),
              "Cases à cocher et boutons radio d'une même question dans un fieldset."),
    Criterion("11.6", "Dans chaque formulaire, chaque regroupement de champs de même nature a-t-il une légende ?",
              C, ("axe",), (),
              "Chaque fieldset a une légende."),
    Criterion("11.7", "Dans chaque formulaire, chaque légende associée à un regroupement de champs de même nature est-elle pertinente ?",
              C, (), ("contenus",),
              ""),
    Criterion("11.8", "Dans chaque formulaire, les items de même nature d’une liste de choix sont-ils regroupés de manière pertinente ?",
              C, ("html_rules",), ("contenus",),
              "Listes courtes, non regroupées ; une liste obligatoire commence par un choix vide."),
    Criterion("11.9", "Dans chaque formulaire, l’intitulé de chaque bouton est-il pertinent (hors cas particuliers) ?",
              C, ("axe",), ("contenus",),
              ""),
    Criterion("11.10", "Dans chaque formulaire, le contrôle de saisie est-il utilisé de manière pertinente (hors cas particuliers) ?",
              C, ("error_summary",), ("lecteur_ecran",),
              "Champs obligatoires signalés par « (obligatoire) » et required ; erreurs écrites sous chaque champ, récapitulatif en tête du formulaire avec des liens vers les champs, focus sur ce récapitulatif, titre « Erreur : »."),
    Criterion("11.11", "Dans chaque formulaire, le contrôle de saisie est-il accompagné, si nécessaire, de suggestions facilitant la correction des erreurs de saisie ?",
              C, ("error_summary",), ("contenus",),
              "Chaque message d'erreur dit ce qu'il faut saisir (format d'une date, nombre d'heures, longueur)."),
    Criterion("11.12", "Pour chaque formulaire qui modifie ou supprime des données, ou qui transmet des réponses à un test ou à un examen, ou dont la validation a des conséquences financières ou juridiques, les données saisies peuvent-elles être modifiées, mises à jour ou récupérées par l’utilisateur ?",
              C, (), ("donnees",),
              "Une déclaration d'heures reste modifiable jusqu'à sa validation ; les suppressions et désactivations passent par une page ou une demande de confirmation ; une décision publiée se corrige par une décision rectificative."),
    Criterion("11.13", "La finalité d’un champ de saisie peut-elle être déduite pour faciliter le remplissage automatique des champs avec les données de l’utilisateur ?",
              C, (), ("contenus",),
              'Identifiant : autocomplete="username" ; adresse : "email" ; mots de passe : "current-password" / "new-password" ; code d\'activation : "one-time-code". Les autres champs ne concernent pas la personne qui les remplit.'),
    # 12. Navigation
    Criterion("12.1", "Chaque ensemble de pages dispose-t-il de deux systèmes de navigation différents, au moins (hors cas particuliers) ?",
              C, ("site_map",), ("contenus",),
              "Deux systèmes : le menu principal et le plan du site (/plan-du-site), lié depuis le pied de chaque page. Tous deux sont tirés de la même définition (incubator/navigation.py) : le plan liste les pages du rôle du lecteur, et les pages publiques pour un visiteur non connecté ; il n'y a pas de moteur de recherche commun (seulement des recherches propres à certaines listes)."),
    Criterion("12.2", "Dans chaque ensemble de pages, le menu et les barres de navigation sont-ils toujours à la même place (hors cas particuliers) ?",
              C, ("phone",), (),
              "Menu et pied de page viennent de la même mise en page ; sur un écran étroit le menu est replié au même endroit."),
    Criterion("12.3", "La page « plan du site » est-elle pertinente ?",
              C, ("site_map",), ("contenus",),
              "Le plan suit le menu du rôle du lecteur, avec les pages des navigations de l'arbitrage et de l'administration, du compte et du pied de page ; chaque lien mène à une page que ce lecteur peut ouvrir."),
    Criterion("12.4", "Dans chaque ensemble de pages, la page « plan du site » est-elle accessible à partir d’une fonctionnalité identique ?",
              C, ("site_map", "guards"), (),
              "Lien « Plan du site » dans le pied de page de la mise en page commune, au même endroit sur chaque page."),
    Criterion("12.5", "Dans chaque ensemble de pages, le moteur de recherche est-il atteignable de manière identique ?",
              NA, (), (),
              "Pas de moteur de recherche commun à l'ensemble des pages (voir 12.1)."),
    Criterion("12.6", "Les zones de regroupement de contenus présentes dans plusieurs pages web (zones d’en-tête, de navigation principale, de contenu principal, de pied de page et de moteur de recherche) peuvent-elles être atteintes ou évitées ?",
              C, ("axe", "guards"), ("lecteur_ecran",),
              "Zones header, nav nommée « Navigation principale », main, footer ; lien d'évitement vers le contenu."),
    Criterion("12.7", "Dans chaque page web, un lien d’évitement ou d’accès rapide à la zone de contenu principal est-il présent (hors cas particuliers) ?",
              C, ("guards", "axe"), ("clavier",),
              "Lien « Aller au contenu », premier élément de chaque page, vers main."),
    Criterion("12.8", "Dans chaque page web, l’ordre de tabulation est-il cohérent ?",
              C, ("axe",), ("clavier",),
              "Aucun tabindex positif ; l'ordre de tabulation suit l'ordre du code."),
    Criterion("12.9", "Dans chaque page web, la navigation ne doit pas contenir de piège au clavier. Cette règle est-elle respectée ?",
              C, (), ("clavier",),
              ""),
    Criterion("12.10", "Dans chaque page web, les raccourcis clavier n’utilisant qu’une seule touche (lettre minuscule ou majuscule, ponctuation, chiffre ou symbole) sont-ils contrôlables par l’utilisateur ?",
              NA, ("guards",), (),
              "Aucun raccourci clavier d'une seule touche (seule la touche Entrée est interceptée, dans un champ de recherche, pour lancer la recherche)."),
    Criterion("12.11", "Dans chaque page web, les contenus additionnels apparaissant au survol, à la prise de focus ou à l’activation d’un composant d’interface sont-ils si nécessaire atteignables au clavier ?",
              C, (), ("clavier",),
              "Menu replié (details), « Tableau des données », suggestions d'agents : atteignables et utilisables au clavier."),
    # 13. Consultation
    Criterion("13.1", "Pour chaque page web, l’utilisateur a-t-il le contrôle de chaque limite de temps modifiant le contenu (hors cas particuliers) ?",
              C, ("session",), ("temps",),
              "Une session se ferme après 4 heures sans activité et, en tout cas, 10 heures après la connexion (sécurité). Deux minutes avant, un avertissement (role=\"alertdialog\", focus sur son bouton) le dit : « Rester connecté » relance le délai d'inactivité, autant de fois qu'on le veut ; la durée maximale ne se prolonge pas, mais l'avertissement laisse le temps d'enregistrer et, après reconnexion, ramène à la page où l'on était. Sans JavaScript, rien n'avertit : la page fonctionne, et la reconnexion ramène aussi à la page. Les comptages en direct d'un vote (toutes les 4 s) et le nombre de notifications (toutes les 60 s) ne sont pas des rafraîchissements de page au sens du critère, et ne comptent pas comme une activité."),
    Criterion("13.2", "Dans chaque page web, l’ouverture d’une nouvelle fenêtre ne doit pas être déclenchée sans action de l’utilisateur. Cette règle est-elle respectée ?",
              C, ("guards",), (),
              "Aucune fenêtre n'est ouverte par script ; le seul lien qui ouvre un onglet (propositions semblables) le dit dans son intitulé."),
    Criterion("13.3", "Dans chaque page web, chaque document bureautique en téléchargement possède-t-il, si nécessaire, une version accessible (hors cas particuliers) ?",
              C, (), ("documents",),
              "Les fichiers téléchargés sont des exports de données : CSV (une ligne d'en-têtes nomme chaque colonne, précédée du titre du rapport pour le suivi RH) et XLSX pour le suivi RH (feuilles nommées, titre, ligne d'en-têtes en gras et figée, filtre automatique, ni cellule fusionnée ni image). Ils se lisent avec un tableur et un lecteur d'écran."),
    Criterion("13.4", "Pour chaque document bureautique ayant une version accessible, cette version offre-t-elle la même information ?",
              NA, (), (),
              "Pas de document bureautique ayant une version alternative (voir 13.3)."),
    Criterion("13.5", "Dans chaque page web, chaque contenu cryptique (art ASCII, émoticône, syntaxe cryptique) a-t-il une alternative ?",
              C, ("guards",), ("contenus",),
              "Pas de contenu cryptique : les périodes s'écrivent « du … au … », un changement « de … à … ». Les flèches des liens « Précédente » et « Suivante », les chevrons des fils d'Ariane et les symboles ajoutés par la feuille de style (☰, ⚠, →) sont décoratifs : masqués aux technologies d'assistance (aria-hidden, texte de remplacement vide), les mots à côté disent tout."),
    Criterion("13.6", "Dans chaque page web, pour chaque contenu cryptique (art ASCII, émoticône, syntaxe cryptique) ayant une alternative, cette alternative est-elle pertinente ?",
              NA, (), (),
              "Aucun contenu cryptique, donc aucune alternative à juger (voir 13.5)."),
    Criterion("13.7", "Dans chaque page web, les changements brusques de luminosité ou les effets de flash sont-ils correctement utilisés ?",
              NA, (), (),
              "Aucun flash ni changement brusque de luminosité."),
    Criterion("13.8", "Dans chaque page web, chaque contenu en mouvement ou clignotant est-il contrôlable par l’utilisateur ?",
              NA, (), (),
              "Aucun contenu en mouvement ni clignotant (le seul effet est l'apparition en 0,2 s d'un indicateur de chargement)."),
    Criterion("13.9", "Dans chaque page web, le contenu proposé est-il consultable quelle que soit l’orientation de l’écran (portrait ou paysage) (hors cas particuliers) ?",
              C, ("phone", "reflow"), ("orientation",),
              "Aucune orientation n'est imposée."),
    Criterion("13.10", "Dans chaque page web, les fonctionnalités utilisables ou disponibles au moyen d’un geste complexe peuvent-elles être également disponibles au moyen d’un geste simple (hors cas particuliers) ?",
              NA, (), (),
              "Aucune fonction à geste complexe (pas de glisser-déposer, de pincement ni de balayage)."),
    Criterion("13.11", "Dans chaque page web, les actions déclenchées au moyen d’un dispositif de pointage sur un point unique de l’écran peuvent-elles faire l’objet d’une annulation (hors cas particuliers) ?",
              C, (), ("clavier",),
              "Les actions sont des liens et boutons natifs (déclenchés au relâchement) ; les actions destructrices demandent confirmation."),
    Criterion("13.12", "Dans chaque page web, les fonctionnalités qui impliquent un mouvement de l’appareil ou vers l’appareil peuvent-elles être satisfaites de manière alternative (hors cas particuliers) ?",
              NA, (), (),
              "Aucune fonction liée au mouvement de l'appareil."),
)


@dataclass(frozen=True)
class Result:
    applicable: int
    conforming: int
    not_applicable: int

    @property
    def rate(self) -> float:
        """Conforming criteria over applicable criteria, in per cent (the RGAA's method)."""
        return 100 * self.conforming / self.applicable if self.applicable else 100.0

    @property
    def rate_label(self) -> str:
        """« 95,5 % », « 100 % »: French decimal comma, one decimal unless whole."""
        rounded = round(self.rate, 1)
        text = f"{rounded:.0f}" if rounded == int(rounded) else f"{rounded:.1f}".replace(".", ",")
        return f"{text}\u00a0%"

    @property
    def status(self) -> str:
        """The RGAA thresholds: every applicable criterion met, at least half, or fewer."""
        if self.conforming == self.applicable:
            return "totalement conforme"
        if self.rate >= 50:
            return "partiellement conforme"
        return "non conforme"


def result(criteria: tuple[Criterion, ...] | None = None) -> Result:
    # CRITERIA is read at call time, so that a test replacing it sees its effect everywhere.
    grid = CRITERIA if criteria is None else criteria
    applicable = [c for c in grid if c.status != NA]
    return Result(len(applicable), sum(1 for c in applicable if c.status == C), len(grid) - len(applicable))


def non_conformities(criteria: tuple[Criterion, ...] | None = None) -> list[Criterion]:
    return [c for c in (CRITERIA if criteria is None else criteria) if c.status == NC]


@dataclass(frozen=True)
class ThemeResult:
    number: int
    name: str
    conforming: int
    non_conforming: int
    not_applicable: int


def by_theme(criteria: tuple[Criterion, ...] | None = None) -> list[ThemeResult]:
    statuses: dict[int, list[str]] = {number: [] for number, _name, _count in THEMES}
    for criterion in CRITERIA if criteria is None else criteria:
        statuses[criterion.theme].append(criterion.status)
    return [ThemeResult(number, name, statuses[number].count(C), statuses[number].count(NC), statuses[number].count(NA))
            for number, name, _count in THEMES]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown() -> str:
    """docs/rgaa.md: the grid as a document, generated from this module."""
    outcome = result()
    lines = [
        "# Grille d'audit RGAA",
        "",
        "<!-- Généré par `python -m incubator.core.rgaa` depuis incubator/core/rgaa.py : "
        "ne pas modifier à la main. -->",
        "",
        f"Référentiel : RGAA {RGAA_VERSION} (106 critères, WCAG 2.1 niveau AA). "
        f"Date de l'audit : {AUDIT_DATE.strftime('%d/%m/%Y')}.",
        "",
        f"Résultat : **{outcome.status}**, {outcome.conforming} critères conformes sur "
        f"{outcome.applicable} applicables, soit un taux de conformité de {outcome.rate_label} "
        f"({outcome.not_applicable} critères non applicables). "
        "La déclaration d'accessibilité (/accessibilite) est tirée des mêmes données.",
        "",
        "## Non-conformités",
        "",
    ]
    lines += [f"- **{c.number}** {c.title} — {c.note}" for c in non_conformities()] or ["Aucune."]
    lines += ["", "## Dérogations et contenus non soumis à l'obligation", ""]
    lines += [f"- {item}" for item in DEROGATIONS + EXEMPT_CONTENT] or ["Aucun."]
    lines += ["", "## Résultats par thématique", "",
              "| Thématique | Conformes | Non conformes | Non applicables |",
              "| --- | --- | --- | --- |"]
    lines += [f"| {t.number}. {t.name} | {t.conforming} | {t.non_conforming} | {t.not_applicable} |"
              for t in by_theme()]
    lines += ["", "## Pages et parcours audités", ""]
    lines += [f"- {label} (`{path}`)" for label, path in AUDITED_PAGES]
    lines += ["", "## Technologies", "", ", ".join(TECHNOLOGIES) + ".", "", "## Outils", ""]
    lines += [f"- {tool}" for tool in TOOLS]
    lines += ["", "## Vérifications automatiques", ""]
    lines += [f"- `{key}` : {check.label} — " + ", ".join(f"`{p}`" for p in check.paths)
              for key, check in CHECKS.items()]
    lines += ["", "## Procédures manuelles", ""]
    for key, procedure in PROCEDURES.items():
        lines += [f"### `{key}` : {procedure.title}", ""]
        lines += [f"{i}. {step}" for i, step in enumerate(procedure.steps, 1)]
        lines.append("")
    lines += ["## Critères", ""]
    for number, name, _count in THEMES:
        lines += [f"### {number}. {name}", "",
                  "| Critère | Intitulé | Statut | Vérification | Remarque |",
                  "| --- | --- | --- | --- | --- |"]
        for c in CRITERIA:
            if c.theme != number:
                continue
            how = ", ".join([f"`{k}`" for k in c.checks] + [f"manuel `{k}`" for k in c.manual])
            lines.append(f"| {c.number} | {_cell(c.title)} | {c.status} | {how or '—'} "
                         f"| {_cell(c.note) or '—'} |")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "rgaa.md"

if __name__ == "__main__":
    DOC_PATH.write_text(markdown(), encoding="utf-8")
    print(f"{DOC_PATH} écrit ({len(CRITERIA)} critères).")
