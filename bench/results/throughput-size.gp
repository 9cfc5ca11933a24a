set terminal pngcairo size 1200,560 font 'DejaVu Sans,11' noenhanced
set output 'bench/results/throughput-size.png'
$s0 << EOD
200 61043.1 12.21
2048 51855.7 106.2
8192 43339.2 355.03
EOD
$l0 << EOD
8192 361.36
65536 793.83
EOD
$s1 << EOD
200 65329.5 13.07
2048 64618 132.34
8192 48801.9 399.78
EOD
$l1 << EOD
8192 376.83
65536 701.19
EOD
$s2 << EOD
200 37808.2 7.56
2048 16497.3 33.79
8192 6257.7 51.26
EOD
$l2 << EOD
8192 40.34
EOD
$s3 << EOD
200 52110.3 10.42
2048 21459.7 43.95
8192 11135.3 91.22
EOD
$l3 << EOD
8192 85.95
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
