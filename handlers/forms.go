package handlers

import "net/url"

// postedForm builds form values as a browser posts them: an empty text
// field or an unchecked box is left out. Review pages carry a form on with
// it, and its reader reads it back.
type postedForm struct{ url.Values }

// text sets a text field, unless it is empty.
func (f postedForm) text(key, value string) {
	if value != "" {
		f.Set(key, value)
	}
}

// check sets a checkbox, if it is checked.
func (f postedForm) check(key string, checked bool) {
	if checked {
		f.Set(key, "on")
	}
}
