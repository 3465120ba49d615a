"""Projects born from accepted proposals, and immersions born from mobility offers:
charter (lettre de mission), team, milestones, progress, retrospective, applications."""
