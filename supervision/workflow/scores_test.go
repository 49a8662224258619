package workflow_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/export"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// fieldOf is the field an EINVALID error names, "" for none.
func fieldOf(err error) string {
	var e *voucherwatch.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

func TestParseRoundScores(t *testing.T) {
	got, err := workflow.ParseRoundScores(strings.NewReader("\uFEFFclaim_id,criterion,score,comment\nSB1,innovation,88.5,联系人 13912345678\n\nSB1,benefit,70\n"))
	if err != nil || len(got) != 2 || got[0].Score != 88.5 || strings.Contains(got[0].Comment, "13912345678") || got[1].Criterion != "benefit" {
		t.Errorf("got %+v %v, want two scores, the comment masked", got, err)
	}
	for _, bad := range []string{
		"claim,criterion,score\nSB1,a,1\n",        // header
		"claim_id,criterion,score\nSB1,a,101\n",   // out of range
		"claim_id,criterion,score\nSB1,sme,50\n",  // a computed factor
		"claim_id,criterion,score\nSB1,,50\n",     // no criterion
		"claim_id,criterion,score\n",              // no rows
		"claim_id,criterion,score\nSB1,a,x,y,z\n", // fields
	} {
		if _, err := workflow.ParseRoundScores(strings.NewReader(bad)); fieldOf(err) != "scores" {
			t.Errorf("%q: got %v, want EINVALID on scores", bad, err)
		}
	}
}

// TestScoresFromXLSX: the panel's workbook reads as its CSV does, numbers and all.
func TestScoresFromXLSX(t *testing.T) {
	var buf strings.Builder
	tbl := export.Table{Sheet: "评分", Rows: [][]string{{"claim_id", "criterion", "score", "comment"}, {"SB1", "innovation", "91", "好"}, {"SB2", "innovation", "60", ""}}}
	if err := tbl.WriteXLSX(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := workflow.ParseScoreUpload("", []byte(buf.String()))
	if err != nil || len(got) != 2 || got[0].ClaimID != "SB1" || got[0].Score != 91 || got[1].Score != 60 {
		t.Errorf("got %+v %v, want the workbook's two scores", got, err)
	}
	if _, err := workflow.ParseScoreUpload("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", []byte("not a workbook")); fieldOf(err) != "scores" {
		t.Errorf("a broken workbook: got %v, want EINVALID on scores", err)
	}
}
