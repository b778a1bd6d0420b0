package main

import (
	"errors"
	"log/slog"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/cors"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"

	"github.com/regulars/regulars/server/edge"
	"github.com/regulars/regulars/server/gateway"
	"github.com/regulars/regulars/server/live"
)

func (m *Main) newApp() *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:   "regulars",
		BodyLimit: m.Config.MaxBodyBytes,
		// Bodies are read through the gateway, which answers one over the limit
		// with 413 after reading it (up to maxDrainBytes): fasthttp alone
		// closes before reading, and the client, still sending, sees a
		// reset instead of the answer.
		StreamRequestBody:     true,
		DisableStartupMessage: true,
		ErrorHandler:          gateway.ErrorHandler,
		ReadTimeout:           m.Config.HTTPReadTimeout,
		WriteTimeout:          m.Config.HTTPWriteTimeout,
		IdleTimeout:           m.Config.HTTPIdleTimeout,
		// X-Forwarded-Proto and -Host are believed from these proxies only;
		// the client address is worked out by edge.Proxies.ClientIP.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          m.Config.TrustedProxies,
	})
	// Sockets close their connections themselves (live.Hub.Upgrade), so
	// that fasthttp can take back each handshake's request context at once
	// rather than keep it for the socket's life. Nothing else hijacks.
	app.Server().KeepHijackedConns = true
	app.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: func(c *fiber.Ctx, p any) {
		slog.Error("panic in request", "requestId", gateway.RequestID(c), "clientIp", c.Locals(edge.ClientIPLocal), "panic", p)
	}}))
	app.Use(requestid.New())
	if m.Config.CORSOrigins != "" {
		app.Use(cors.New(cors.Config{
			AllowOrigins: m.Config.CORSOrigins,
			AllowHeaders: "Authorization, Content-Type, Accept, X-Request-Id",
			AllowMethods: "GET, POST, OPTIONS",
		}))
	}

	app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Get("/readyz", m.readyz)
	app.Get("/metrics", adaptor.HTTPHandler(m.metrics.Handler()))

	app.Use("/graphql", m.gate.RateLimitIP)
	app.Get("/graphql", func(c *fiber.Ctx) error {
		if websocket.IsWebSocketUpgrade(c) {
			return m.sockets.Upgrade(c, gateway.RequestID(c), m.gate.Proxies.ClientIP(c))
		}
		return c.Next()
	})
	app.All("/graphql", m.gate.ServeGraphQL)
	app.Get("/events/*", m.gate.RateLimitIP, m.gate.FileCaller, m.downloads.EventFile)
	app.Get("/analytics/export/*", m.gate.RateLimitIP, m.gate.FileCaller, m.downloads.AnalyticsExport)
	app.Get("/exports/:id", m.gate.RateLimitIP, m.gate.FileCaller, m.downloads.DataExport)
	m.mountConsole(app)
	return app
}

// readyz answers 200 once the database answers a ping and its indexes
// exist. Otherwise 503, saying where the database is (host:port, never the
// URI with its credentials) and the last error the driver or a ping saw.
func (m *Main) readyz(c *fiber.Ctx) error {
	err := errors.New("not connected yet")
	if m.ready.Load() {
		err = m.dbHealth.Ping(c.UserContext(), m.mongo)
	}
	if err != nil {
		return c.Status(fiber.StatusServiceUnavailable).SendString(m.dbHealth.Explain(err))
	}
	return c.SendString("ready")
}

// newHub builds the WebSocket transport from the settings.
func (m *Main) newHub() *live.Hub {
	cfg := m.Config
	return live.New(live.Config{
		MaxMessageBytes: cfg.MaxBodyBytes,
		InitTimeout:     cfg.WSInitTimeout,
		StallTimeout:    cfg.WSStallTimeout,
		PingInterval:    cfg.WSPingInterval,
		SendQueue:       cfg.WSSendQueue,
		MaxPerIP:        cfg.WSMaxPerIP,
		MaxPerMember:    cfg.WSMaxPerMember,
		CORSOrigins:     cfg.CORSOrigins,
		CheckTimeout:    cfg.MongoTimeout,
	}, m.gate.Sockets())
}
