package store

import (
	"strings"
	"testing"
)

// TestUsageDaysViewIsItsQuery: usageDaysSQL without filters is the text of the view usage_days
// as its latest migration created it. Both are assembled from the same frozen parts
// (usageDaysDaily, usageDaysSpread, …), but each writes its own joins and closing
// parentheses: the migration's are frozen with its checksum, the readers' query is not, and
// a change to one that the other does not share fails here.
func TestUsageDaysViewIsItsQuery(t *testing.T) {
	const create = "CREATE VIEW IF NOT EXISTS usage_days AS\n"
	var view string
	for _, m := range migrations {
		for _, s := range m.steps {
			if strings.HasPrefix(s.sql, create) {
				view = strings.TrimPrefix(s.sql, create)
			}
		}
	}
	if view == "" {
		t.Fatal("no migration creates the view usage_days")
	}
	if got := usageDaysSQL("1", "1"); got != view {
		t.Errorf("usageDaysSQL(\"1\", \"1\") differs from the latest usage_days view:\n got %s\nwant %s", got, view)
	}
}
