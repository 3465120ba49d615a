"""What waits for each person: the home page's inbox and the daily digest's summary.

`items.inbox_for(user)` counts, for each role the person holds, what waits for them
(weeks to approve, proposals to declare eligible or to assess, decisions to publish,
sponsors to appoint, charters to validate, applications to consent to or to select, late
milestones, refused hours, drafts...), each with its age and the one page where to act,
in a fixed number of SQL queries whatever the size of the data.
"""
