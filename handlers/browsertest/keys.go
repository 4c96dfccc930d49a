package browsertest

import (
	"context"
	"unicode"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Type types v into sel, once sel is Ready, the way a keyboard does: each
// key's text rides on its keydown, so a page that handles the keydown and
// cancels it (a terminal such as xterm.js) sees the key once. SendKeys
// sends the text as a separate "char" event, which fires keypress and
// input even after a cancelled keydown, and a terminal would see every key
// twice. Control characters (U+0001 to U+001A other than Tab, Enter and
// Backspace) are typed as Ctrl with their letter: "\x03" is Ctrl-C.
func Type(sel, v string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(Ready(sel), chromedp.Focus(sel), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, r := range v {
			for _, k := range keyEvents(r) {
				if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, k); err != nil {
					return err
				}
			}
		}
		return nil
	}))
}

// keyEvents is the keydown (carrying the text) and keyup of one key.
func keyEvents(r rune) []input.DispatchKeyEventParams {
	if r >= 1 && r <= 26 && r != '\t' && r != '\r' && r != '\n' && r != '\b' {
		letter := 'a' + r - 1
		down := input.DispatchKeyEventParams{Type: kb.KeyDown, Key: string(letter), Code: "Key" + string(letter-'a'+'A'),
			WindowsVirtualKeyCode: int64(letter - 'a' + 'A'), Modifiers: int64(kb.ModifierCtrl)}
		up := down
		up.Type = kb.KeyUp
		return []input.DispatchKeyEventParams{down, up}
	}
	var out []input.DispatchKeyEventParams
	var down *input.DispatchKeyEventParams
	for _, e := range kb.Encode(r) {
		switch e.Type {
		case kb.KeyDown:
			out = append(out, *e)
			down = &out[len(out)-1]
		case kb.KeyChar:
			if down != nil {
				down.Text, down.UnmodifiedText = e.Text, e.UnmodifiedText
			}
		default:
			out = append(out, *e)
		}
	}
	return out
}

// Press presses one letter key with modifiers on sel, once sel is Ready:
// Press(sel, "v", kb.ModifierCtrl|kb.ModifierShift) is Ctrl-Shift-V.
func Press(sel string, letter rune, modifiers kb.Modifier) chromedp.Action[chromedp.Void] {
	upper := unicode.ToUpper(letter)
	down := input.DispatchKeyEventParams{Type: kb.KeyDown, Key: string(letter), Code: "Key" + string(upper),
		WindowsVirtualKeyCode: int64(upper), Modifiers: int64(modifiers)}
	if modifiers&kb.ModifierShift != 0 {
		down.Key = string(upper)
	}
	up := down
	up.Type = kb.KeyUp
	return chromedp.Steps(Ready(sel), chromedp.Focus(sel), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, k := range []input.DispatchKeyEventParams{down, up} {
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, k); err != nil {
				return err
			}
		}
		return nil
	}))
}
