package views

import (
	"strconv"
	"strings"
)

// Chart is a small line chart drawn as inline SVG: the last hour of one
// metric, oldest sample first. A NaN-free, non-negative series is expected;
// gaps (missing samples) are zero.
type Chart struct {
	Title  string
	Latest string    // the newest value, formatted
	Values []float64 // oldest first
	Max    float64   // top of the scale; 0 means the largest value
	Peak   string    // the largest value, formatted: "peak 2.1%", "peak 310 MiB of 1.0 GiB"
}

// Chart geometry in SVG user units; the SVG scales to its box.
const (
	chartW = 300
	chartH = 80
)

func (c Chart) top() float64 {
	m := c.Max
	for _, v := range c.Values {
		m = max(m, v)
	}
	if m <= 0 {
		return 1
	}
	return m
}

// points is the polyline of the series, scaled into the chart box.
func (c Chart) points() string {
	n := len(c.Values)
	if n == 0 {
		return ""
	}
	top := c.top()
	var b strings.Builder
	for i, v := range c.Values {
		x := 0.0
		if n > 1 {
			x = float64(i) * chartW / float64(n-1)
		}
		y := chartH - max(v, 0)/top*chartH
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(x, 'f', 1, 64) + "," + strconv.FormatFloat(y, 'f', 1, 64))
	}
	return b.String()
}

// area closes the polyline along the bottom for a filled background.
func (c Chart) area() string {
	p := c.points()
	if p == "" {
		return ""
	}
	return "0," + strconv.Itoa(chartH) + " " + p + " " + strconv.Itoa(chartW) + "," + strconv.Itoa(chartH)
}

func (c Chart) viewBox() string {
	return "0 0 " + strconv.Itoa(chartW) + " " + strconv.Itoa(chartH)
}
