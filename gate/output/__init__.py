"""What a check writes: the result document, the Markdown report, the PR comment text, templates."""
