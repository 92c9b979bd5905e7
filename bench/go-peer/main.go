// The Go peer of bench/demo.sh: the article's service as Go's net/http serves it over
// TLS (the handler writes `Hello, %q from Scratch Demo!` with the escaped path), with
// Go's defaults for everything else (session tickets, HTTP/2 by ALPN, GOMAXPROCS = CPUs).
// Built for the bench only, with Debian's golang-go and no module outside the standard
// library: go build -o DIR/go-peer .
package main

import (
	"flag"
	"fmt"
	"html"
	"log"
	"net/http"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8443", "address to listen on")
	cert := flag.String("cert", "server.crt", "PEM certificate chain")
	key := flag.String("key", "server.key", "PEM private key")
	flag.Parse()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "Hello, %q from Scratch Demo!", html.EscapeString(r.URL.Path))
	})
	log.Fatal(http.ListenAndServeTLS(*listen, *cert, *key, nil))
}
