"""Visible arbitration: collective settings and criteria, eligibility, assessments,
recusal, sessions, votes, decisions and the public journal."""
