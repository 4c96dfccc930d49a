package handlers

import "github.com/labstack/echo/v4"

// SSHKeyStore keeps the public keys users register for the SSH gateway.
type SSHKeyStore interface{}

func (h *Handler) registerSSHKeyRoutes(g *echo.Group) {}
