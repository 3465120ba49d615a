"""Single sign-on, the account side: which agent a provider's identity is, the account of
an unknown agent when the institution wants it, and the institution's sign-in settings.

The protocol (tokens, signatures) is accounts.oidc; the session is opened by
accounts.services.sign_in, as for a password. Every function records its audit events and
leaves the commit to the caller.

Linking: an identity already seen is found by (issuer, subject). The first time, by the
email the provider vouches for (ProConnect sends no `email_verified`: its emails are
verified; a provider that says `email_verified: false` is not trusted with linking), among
the agents of the institution that the SIRET or the email's domain designates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, select

from ..audit.services import record
from ..errors import ValidationFailed
from ..extensions import db
from ..people.models import QUOTITE_MAX, User
from ..people.policy import require_admin
from ..people.services import EMAIL_RE, agent_by_email, normalise_email
from ..timeutil import utcnow
from .models import EMAIL_DOMAINS_MAX, SIRET_LENGTH, ExternalIdentity, SignInSettings
from .services import LoginResult, sign_in

# An agent whose account single sign-on creates has this category until the
# administration or the directory sync sets the real one (the provider does not say it).
PROVISIONED_CATEGORY = "C"
NAME_MAX = 100


class NoAccount(ValidationFailed):
    """The provider's person has no account here, and none is created: `institution` is
    the one found (to name whom to contact), or None. Nothing is written."""

    status_code = 403

    def __init__(self, institution=None):
        super().__init__({}, "Votre compte n'existe pas encore.")
        self.institution = institution


def settings_for(institution_id: int) -> SignInSettings:
    """The institution's settings (defaults, not yet stored, if it never saved any)."""
    return SignInSettings.of(institution_id) or SignInSettings(
        institution_id=institution_id, siret=None, email_domains="", provisions_agents=False,
        agents_use_passwords=True)


def _institution_settings(claims: Mapping[str, Any], email: str) -> SignInSettings | None:
    siret = re.sub(r"\s", "", str(claims.get("siret") or ""))
    if siret:
        found = db.session.scalar(select(SignInSettings).where(SignInSettings.siret == siret))
        if found:
            return found
    domain = email.rpartition("@")[2]
    if not domain:
        return None
    candidates = db.session.scalars(select(SignInSettings).where(
        SignInSettings.email_domains.contains(domain))).all()
    matching = [s for s in candidates if domain in s.domains]
    return matching[0] if len(matching) == 1 else None


def _name(value: Any, fallback: str) -> str:
    text = " ".join(str(value or "").split())[:NAME_MAX]
    return text or fallback


def _first_sign_in(issuer: str, claims: Mapping[str, Any]) -> User:
    email = normalise_email(str(claims.get("email") or ""))
    if not EMAIL_RE.match(email) or claims.get("email_verified") is False:
        raise NoAccount()
    settings = _institution_settings(claims, email)
    if settings is None:
        raise NoAccount()
    institution_id = settings.institution_id
    user = agent_by_email(institution_id, email, active_only=False)
    if user is None:
        taken = db.session.scalar(select(exists().where(User.email == email)))
        if taken or not settings.provisions_agents:
            raise NoAccount(settings.institution)
        user = User(institution_id=institution_id, email=email,
                    first_name=_name(claims.get("given_name"), email.split("@")[0]),
                    last_name=_name(claims.get("usual_name") or claims.get("family_name"), "—"),
                    category=PROVISIONED_CATEGORY, quotite=QUOTITE_MAX, org_unit_id=None)
        db.session.add(user)
        db.session.flush()
        record("user.provisioned", actor=user, institution_id=institution_id, target=user,
               data={"email": email, "issuer": issuer})
    if user.is_active:
        db.session.add(ExternalIdentity(user_id=user.id, issuer=issuer, subject=str(claims["sub"])))
        record("auth.identity_linked", actor=user, institution_id=institution_id, target=user,
               data={"issuer": issuer})
    return user


def sign_in_with_provider(provider_slug: str, issuer: str, claims: Mapping[str, Any],
                          ip_address: str) -> LoginResult:
    """The session of the agent the provider vouches for (claims checked by accounts.oidc).
    Raises NoAccount, or LoginRefused for a deactivated account."""
    subject = str(claims["sub"])
    identity = db.session.scalar(select(ExternalIdentity).where(
        ExternalIdentity.issuer == issuer, ExternalIdentity.subject == subject))
    if identity is not None:
        user = identity.user
        identity.last_login_at = utcnow()
    else:
        user = _first_sign_in(issuer, claims)
    return sign_in(user, ip_address, method=f"oidc:{provider_slug}")


# --------------------------------------------------------------------------- settings

SIRET_RE = re.compile(r"^\d{14}$")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def has_signed_in_agents(institution_id: int) -> bool:
    """Whether single sign-on already works for the institution: one of its agents at least
    has signed in through a provider."""
    return bool(db.session.scalar(select(exists().where(
        ExternalIdentity.user_id == User.id, User.institution_id == institution_id))))


def update_sign_in_settings(actor: User, institution_id: int, *, siret: str, email_domains: str,
                            provisions_agents: bool, agents_use_passwords: bool,
                            providers_configured: bool) -> SignInSettings:
    require_admin(actor, institution_id)
    errors: dict[str, str] = {}
    siret = re.sub(r"\s", "", siret or "")
    if siret and not SIRET_RE.match(siret):
        errors["siret"] = f"Un SIRET compte {SIRET_LENGTH} chiffres."
    elif siret and db.session.scalar(select(exists().where(
            SignInSettings.siret == siret, SignInSettings.institution_id != institution_id))):
        errors["siret"] = "Ce SIRET est déjà celui d'une autre collectivité de l'instance."
    domains = [d.strip().lower().lstrip("@") for d in re.split(r"[\s,;]+", email_domains or "") if d.strip()]
    bad = [d for d in domains if not DOMAIN_RE.match(d)]
    if bad:
        errors["email_domains"] = f"Domaine invalide : {bad[0]} (ex. ville-exemple.fr)."
    elif len(" ".join(domains)) > EMAIL_DOMAINS_MAX:
        errors["email_domains"] = f"{EMAIL_DOMAINS_MAX} caractères au plus."
    if not agents_use_passwords:
        if not providers_configured:
            errors["agents_use_passwords"] = ("Aucune connexion unique n'est configurée sur l'instance : "
                                              "les agents doivent garder leur mot de passe.")
        elif not has_signed_in_agents(institution_id):
            errors["agents_use_passwords"] = ("Aucun agent ne s'est encore connecté par la connexion unique : "
                                              "essayez-la avant de fermer la connexion par mot de passe.")
    if errors:
        raise ValidationFailed(errors)
    settings = SignInSettings.of(institution_id)
    if settings is None:
        settings = SignInSettings(institution_id=institution_id)
        db.session.add(settings)
    before = {"siret": settings.siret, "email_domains": settings.email_domains,
              "provisions_agents": settings.provisions_agents,
              "agents_use_passwords": settings.agents_use_passwords}
    settings.siret = siret or None
    settings.email_domains = " ".join(dict.fromkeys(domains))
    settings.provisions_agents = bool(provisions_agents)
    settings.agents_use_passwords = bool(agents_use_passwords)
    settings.updated_at = utcnow()
    after = {"siret": settings.siret, "email_domains": settings.email_domains,
             "provisions_agents": settings.provisions_agents,
             "agents_use_passwords": settings.agents_use_passwords}
    record("institution.sign_in_settings_changed", actor=actor, institution_id=institution_id,
           data={k: v for k, v in after.items() if before.get(k) != v})
    return settings
