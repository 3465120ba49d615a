from datetime import date

from tests.factories import make_project, make_user


def manager_agent_project(hours_budget: int):
    """Karim, N+1 of Camille (full time), member of a project running from September 2026
    to June 2027 with `hours_budget` hours planned for her."""
    manager = make_user(first_name="Karim")
    agent = make_user(org_unit=manager.org_unit, manager=manager, first_name="Camille", quotite=100)
    project = make_project(title="Carnet des bâtiments", starts_on=date(2026, 9, 1), ends_on=date(2027, 6, 30),
                           members=(agent,), member_role="Membre", hours_budget=hours_budget)
    return manager, agent, project
