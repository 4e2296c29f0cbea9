"""What people read: report.md and report.html of a run folder, the leaderboard, and the pieces they share.

Modules, from the bottom up: `run_view` (read-only, tolerant view of a finished run folder), `plots` and
`html_page` (building blocks), `math_render` (LaTeX -> allowlisted MathML), `sample_browser` (the filterable
sample list of report.html), `markdown_report`,
`html_report` and `leaderboard_writer` (the pages). Dependencies point one way: grading, tasks, metrics
and audit never import this package; the run loop (`eval_run`), the regression gate and the CLI do.
"""
