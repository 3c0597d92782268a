"""Reports: rollups of clicks and leads by hour and day, kept up to date by a fold of
change markers, and the report queries over them (docs/reports.md)."""
