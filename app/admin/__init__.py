"""The organiser's campaign admin: campaigns, categories, rubrics, agency approval, audit log."""
