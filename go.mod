module github.com/msrpd/msrpd

go 1.26.8
