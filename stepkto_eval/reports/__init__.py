"""What people read: report.md and report.html of a run folder, the leaderboard, and the pieces they share.

Modules, from the bottom up: `run_view` (read-only, tolerant view of a finished run folder), `plots` and
`html_page` (building blocks), `math_render` (LaTeX -> allowlisted MathML), `views` (difficulty, length,
pass@k, solve-rate and audit views computed from the samples) and `view_sections` (their HTML),
`sample_browser` (the filterable sample list of report.html), then the pages: `markdown_report`,
`html_report` and `leaderboard_writer`. Dependencies point one way: grading, tasks, metrics, audit and
backends never import this package; the run loop (`eval_run`), the regression gate and the CLI do
(tests/test_lint.py checks it).
"""
