"""Numbers from run files: statistics (``stats``), growth fits (``growth``), grouping
(``groups``), published anchors (``anchors``) and the Markdown summary (``summary``).
Nothing here draws."""
