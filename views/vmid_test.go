package views_test

import (
	"bytes"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"corral/views"
)

func TestVMIDInput(t *testing.T) {
	for _, tc := range []struct {
		name   string
		m      views.VMIDInputModel
		status string // data-state inside the status area, "" for none
	}{
		{"empty", views.VMIDInputModel{}, ""},
		{"with a verdict", views.VMIDInputModel{Value: "101", Status: &views.VMIDStatusModel{State: views.VMIDTaken, Message: "VMID 101 is taken by CT mqtt on pve1"}}, "taken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := views.VMIDInput(tc.m).Render(t.Context(), &buf); err != nil {
				t.Fatal(err)
			}
			doc, err := goquery.NewDocumentFromReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			in := doc.Find(`input[name="vmid"]`)
			if in.Length() != 1 {
				t.Fatalf("no vmid input in %s", buf.String())
			}
			for attr, want := range map[string]string{
				"id": "vmid", "value": tc.m.Value, "hx-post": "/containers/vmid",
				"hx-trigger": "input changed delay:300ms, blur", "hx-target": "#vmid-status",
				"hx-include": "[name='node_id']", "hx-swap": "innerHTML",
			} {
				if got, _ := in.Attr(attr); got != want {
					t.Errorf("%s=%q, want %q", attr, got, want)
				}
			}
			if doc.Find(`label[for="vmid"]`).Length() != 1 {
				t.Error("the input has no label")
			}
			area := doc.Find(`#vmid-status[aria-live="polite"]`)
			if area.Length() != 1 {
				t.Fatal("no live status area")
			}
			got, _ := area.Find(`[data-testid="vmid-status"]`).Attr("data-state")
			if got != tc.status {
				t.Errorf("status %q, want %q", got, tc.status)
			}
		})
	}
}

func TestVMIDStatus(t *testing.T) {
	for state, class := range map[string]string{
		views.VMIDFree: "alert-ok", views.VMIDTaken: "alert-bad", views.VMIDInvalid: "alert-bad", views.VMIDUnknown: "alert-warn",
	} {
		var buf bytes.Buffer
		if err := views.VMIDStatus(views.VMIDStatusModel{State: state, Message: "msg <b>"}).Render(t.Context(), &buf); err != nil {
			t.Fatal(err)
		}
		doc, _ := goquery.NewDocumentFromReader(&buf)
		el := doc.Find(`[data-testid="vmid-status"]`)
		if s, _ := el.Attr("data-state"); s != state || !el.HasClass(class) {
			t.Errorf("%s: %s", state, buf.String())
		}
		if el.Find("b").Length() != 0 {
			t.Errorf("%s: message not escaped: %s", state, buf.String())
		}
	}
}
