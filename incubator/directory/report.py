"""What a directory sync changed (or would change), and its French text."""

from __future__ import annotations

from dataclasses import dataclass, field

FIELD_LABELS = {
    "first_name": "prénom", "last_name": "nom", "email": "adresse", "category": "catégorie",
    "employee_number": "matricule", "org_unit_id": "service", "manager_id": "N+1",
    "directory_key": "identifiant d'annuaire",
}


@dataclass
class SyncReport:
    entries: int = 0
    created: list[str] = field(default_factory=list)
    # (agent, [(field label, old, new)])
    updated: list[tuple[str, list[tuple[str, str, str]]]] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    units_created: list[str] = field(default_factory=list)
    units_renamed: list[tuple[str, str, str]] = field(default_factory=list)
    # (directory entry or agent, message)
    problems: list[tuple[str, str]] = field(default_factory=list)
    refusal: str | None = None  # the safety brake's message, when it stops the sync

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deactivated or self.units_created
                    or self.units_renamed)

    def counts(self) -> dict[str, int]:
        return {"entries": self.entries, "created": len(self.created), "updated": len(self.updated),
                "deactivated": len(self.deactivated), "units_created": len(self.units_created),
                "units_renamed": len(self.units_renamed), "problems": len(self.problems)}

    def lines(self) -> list[str]:
        out = [f"{self.entries} entrée(s) d'agent lue(s) dans l'annuaire."]
        if not self.changed:
            out.append("Aucun changement : l'Incubateur est à jour.")
        sections = (
            ("Services créés", [f"+ {u}" for u in self.units_created]),
            ("Services renommés", [f"~ {code} : {old} → {new}" for code, old, new in self.units_renamed]),
            ("Agents créés", [f"+ {a}" for a in self.created]),
            ("Agents mis à jour", [f"~ {agent} : " + " ; ".join(f"{label} {old} → {new}"
                                                                   for label, old, new in changes)
                                   for agent, changes in self.updated]),
            ("Agents désactivés (partis de l'annuaire ; leur historique est conservé)",
             [f"- {a}" for a in self.deactivated]),
            ("Problèmes (entrées laissées de côté ou en partie)", [f"! {where} : {message}"
                                                                   for where, message in self.problems]),
        )
        for title, items in sections:
            if items:
                out.append(f"{title} ({len(items)}) :")
                out.extend(f"  {item}" for item in items)
        if self.changed:
            out.append("Bilan : " + ", ".join((
                f"{len(self.created)} agent(s) créé(s)", f"{len(self.updated)} mis à jour",
                f"{len(self.deactivated)} désactivé(s)", f"{len(self.units_created)} service(s) créé(s)",
                f"{len(self.problems)} problème(s)")) + ".")
        return out
