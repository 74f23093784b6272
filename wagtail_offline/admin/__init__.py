"""The admin screens: the report, the page editor's status, bulk actions, the dashboard panel."""
