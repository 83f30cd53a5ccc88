"""Audit of one's own VK community from its link: readiness for ads, search visibility, content.

* ``service.Auditor.audit(link, ...)`` → ``result.AuditResult`` (never raises; errors carry the
  public check's codes). ``service.evaluate`` judges already collected data (pure).
* ``fetch`` reads VK (one ``execute`` with a user token); ``readiness``, ``search``, ``content``
  and ``score`` are pure functions; ``render`` writes the Russian report.
* ``rules.yaml`` holds the audit's own data (score points, thresholds, name patterns, hashtag
  rubrics, content hints); the checklist items and their advice come from the knowledge base.
* ``actions.audit_actions(settings, auditor)`` plugs the scenario ``audit`` into the dialog
  engine; ``Advisor.open`` builds the ``Auditor`` on the VK gateway's reader client.
"""
