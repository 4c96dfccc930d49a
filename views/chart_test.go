package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestChartPoints(t *testing.T) {
	c := Chart{Values: []float64{0, 50, 100}, Max: 100}
	if got, want := c.points(), "0.0,80.0 150.0,40.0 300.0,0.0"; got != want {
		t.Fatalf("points = %q, want %q", got, want)
	}
	// Values above Max stretch the scale; negatives sit on the axis.
	c = Chart{Values: []float64{-5, 200}, Max: 100}
	if got, want := c.points(), "0.0,80.0 300.0,0.0"; got != want {
		t.Fatalf("points = %q, want %q", got, want)
	}
	if got := (Chart{Values: []float64{0, 0}}).points(); got != "0.0,80.0 300.0,80.0" {
		t.Fatalf("all-zero series: %q", got)
	}
}

func TestChartViewRendersSVG(t *testing.T) {
	var buf bytes.Buffer
	if err := ChartView(Chart{Title: "CPU", Values: []float64{1, 2, 3}, Max: 5}).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "<polyline") || !strings.Contains(buf.String(), `aria-label="CPU over the last hour"`) {
		t.Fatalf("no chart drawn:\n%s", buf.String())
	}
	buf.Reset()
	if err := ChartView(Chart{Title: "CPU", Values: []float64{1}}).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "<svg") {
		t.Fatal("one sample drawn as a chart")
	}
}
