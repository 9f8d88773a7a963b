module example.com/filesync-example-go

go 1.22
