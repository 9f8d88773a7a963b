module example.com/filesync-example-go-modules

go 1.22

require github.com/dustin/go-humanize v1.0.1
