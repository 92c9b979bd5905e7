module husk.invalid/bench/go-peer

go 1.19
