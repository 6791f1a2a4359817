"""Written reports on the campaigns found: HTML (printable, charts inline), Markdown and JSON.

:func:`~distillguard.report.summary.build_report` gathers the figures from a loaded
:class:`~distillguard.console.dataset.Dataset`; :func:`~distillguard.report.render.render` lays
them out. ``distillguard report`` does both from the command line.
"""
