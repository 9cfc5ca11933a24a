set terminal pngcairo size 1200,560 font 'DejaVu Sans,11' noenhanced
set output 'bench/results/throughput-size.png'
$s0 << EOD
200 88512.9 17.7
2048 71810.7 147.07
8192 47183.2 386.52
EOD
$l0 << EOD
8192 388.35
65536 723.9
EOD
$s1 << EOD
200 101542.9 20.31
2048 82455 168.87
8192 54397 445.62
EOD
$l1 << EOD
8192 416.13
65536 743.95
EOD
$s2 << EOD
200 27087.4 5.42
2048 13028.1 26.68
8192 4978.1 40.78
EOD
$l2 << EOD
8192 33.62
EOD
$s3 << EOD
200 49997.6 10
2048 20956.2 42.92
8192 10717.1 87.79
EOD
$l3 << EOD
8192 65.43
EOD

set multiplot layout 1,2 title "Throughput against message size (10 pairs, window 32; medians)"
set logscale x 2
set xtics ("200 B" 200, "2 KiB" 2048, "8 KiB" 8192, "64 KiB" 65536)
set xrange [150:90000]
set grid
set key top right box opaque font ',9'
set xlabel "message size (chunk size for the 1 MiB transfers)"
set ylabel "messages/s"
set yrange [0:*]
set format y "%.0s%c"
set title "messages per second"
plot $s0 using 1:2 with linespoints lw 2 ps 1.3 lc rgb '#1f77b4' pt 7 dt 1 title 'msrpd WS', \
  $s1 using 1:2 with linespoints lw 2 ps 1.3 lc rgb '#1f77b4' pt 5 dt 2 title 'msrpd TCP', \
  $s2 using 1:2 with linespoints lw 2 ps 1.3 lc rgb '#d62728' pt 7 dt 1 title 'Kamailio WS', \
  $s3 using 1:2 with linespoints lw 2 ps 1.3 lc rgb '#d62728' pt 5 dt 2 title 'Kamailio TCP'
set ylabel "MB/s"
set title "megabytes per second"
set key top left font ',8'
plot $s0 using 1:3 with linespoints lw 2 ps 1.3 lc rgb '#1f77b4' pt 7 dt 1 title 'msrpd WS, 1 chunk per message', \
  $l0 using 1:2 with points ps 2.2 lc rgb '#1f77b4' pt 6 dt 1 title 'msrpd WS, 1 MiB messages in chunks', \
  $s1 using 1:3 with linespoints lw 2 ps 1.3 lc rgb '#1f77b4' pt 5 dt 2 title 'msrpd TCP, 1 chunk per message', \
  $l1 using 1:2 with points ps 2.2 lc rgb '#1f77b4' pt 5 dt 2 title 'msrpd TCP, 1 MiB messages in chunks', \
  $s2 using 1:3 with linespoints lw 2 ps 1.3 lc rgb '#d62728' pt 7 dt 1 title 'Kamailio WS, 1 chunk per message', \
  $l2 using 1:2 with points ps 2.2 lc rgb '#d62728' pt 6 dt 1 title 'Kamailio WS, 1 MiB messages in chunks', \
  $s3 using 1:3 with linespoints lw 2 ps 1.3 lc rgb '#d62728' pt 5 dt 2 title 'Kamailio TCP, 1 chunk per message', \
  $l3 using 1:2 with points ps 2.2 lc rgb '#d62728' pt 5 dt 2 title 'Kamailio TCP, 1 MiB messages in chunks'
unset multiplot
