"""Expert review: panels, assignment, conflicts, rubric scoring, expert-score aggregation."""
