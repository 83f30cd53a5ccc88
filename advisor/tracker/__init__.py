"""The campaign tracker: the user's table of ad placements, judged by the guide.

Modules: ``models`` (a placement and its validation), ``parsing`` (fields and the one-line form as
people type them), ``repository`` (rows in the database, always per user), ``reports`` (metrics,
verdicts, grouping and ranking), ``export`` (CSV and XLSX), ``chart`` (PNG), ``reminders`` (ask for
fresh numbers a few days after the start), ``vk_posts`` (post figures from wall.getById),
``actions`` (the dialog's actions).
"""
