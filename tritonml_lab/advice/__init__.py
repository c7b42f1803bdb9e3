"""Right-sized jobs: the advice rules (rules.py, thresholds.py), the suggested resources
(suggest.py), advice while a job runs (live.py), the spread over GPUs and array tasks (spread.py)
and the personal efficiency report (usage.py). No Tornado, no IPython.

Nothing is imported here: metrics/ imports the rules, and the rules must not pull in jobs/."""
