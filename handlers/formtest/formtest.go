// Package formtest reads an HTML form the way a browser submits it, so
// tests can post the forms a page really shows.
package formtest

import (
	"net/url"
	"strings"

	"github.com/PuerkitoBio/goquery"
)

// Values are the fields form submits: named inputs (a ticked checkbox or
// radio only, "on" without a value; no buttons), text areas, and each
// select's chosen option (else its first).
func Values(form *goquery.Selection) url.Values {
	v := url.Values{}
	form.Find("input[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		val, hasVal := s.Attr("value")
		switch typ, _ := s.Attr("type"); typ {
		case "checkbox", "radio":
			if _, on := s.Attr("checked"); on {
				if !hasVal {
					val = "on"
				}
				v.Add(name, val)
			}
		case "submit", "button", "image", "reset":
		default:
			v.Add(name, val)
		}
	})
	form.Find("textarea[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		// A browser drops the newline that may follow <textarea>.
		v.Add(name, strings.TrimPrefix(s.Text(), "\n"))
	})
	form.Find("select[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		opt := s.Find("option[selected]").First()
		if opt.Length() == 0 {
			opt = s.Find("option").First()
		}
		val, _ := opt.Attr("value")
		v.Add(name, val)
	})
	return v
}
