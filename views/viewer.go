package views

import "context"

// Viewer is who a page is rendered for, as far as shared parts of the page
// (the settings tabs) need to know. Handlers put it in the render context
// once, so every page that shows the tabs shows the same ones.
type Viewer struct {
	Admin bool
}

type viewerKey struct{}

// WithViewer returns ctx carrying v.
func WithViewer(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

func viewerOf(ctx context.Context) Viewer {
	v, _ := ctx.Value(viewerKey{}).(Viewer)
	return v
}
