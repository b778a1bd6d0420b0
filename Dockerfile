# Build a static binary, then run it as a non-root user on a minimal image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/regulars ./server

# distroless/static has CA certificates (for Atlas TLS) and nothing else;
# timezones are compiled into the binary.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/regulars /regulars
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/regulars"]
