// Command wsbaseline is the bare WebSocket broadcast server the fan-out
// benchmark compares Regulars with: the same Fiber and WebSocket library,
// no protocol, no database. Clients connect to /ws; POST /broadcast sends
// the request body to every client; GET /metrics gives go_goroutines.
package main

import (
	"flag"
	"log"
	"runtime"
	"strconv"
	"sync"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8099", "listen address")
	flag.Parse()

	var mu sync.Mutex
	clients := map[*websocket.Conn]chan []byte{}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/ws", websocket.New(func(c *websocket.Conn) {
		out := make(chan []byte, 16)
		mu.Lock()
		clients[c] = out
		mu.Unlock()
		done := make(chan struct{})
		go func() { // one writer per socket, as in Regulars
			defer close(done)
			for msg := range out {
				if c.WriteMessage(websocket.TextMessage, msg) != nil {
					return
				}
			}
		}()
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				break
			}
		}
		mu.Lock()
		delete(clients, c)
		close(out)
		mu.Unlock()
		<-done
	}))
	app.Post("/broadcast", func(c *fiber.Ctx) error {
		msg := append([]byte(nil), c.Body()...)
		mu.Lock()
		for _, out := range clients {
			select {
			case out <- msg:
			default: // a slow client misses it, like a full queue
			}
		}
		n := len(clients)
		mu.Unlock()
		return c.JSON(fiber.Map{"clients": n})
	})
	app.Get("/metrics", func(c *fiber.Ctx) error {
		return c.SendString("go_goroutines " + strconv.Itoa(runtime.NumGoroutine()) + "\n")
	})
	log.Fatal(app.Listen(*addr))
}
