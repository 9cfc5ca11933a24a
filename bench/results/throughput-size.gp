set terminal pngcairo size 1200,560 font 'DejaVu Sans,11' noenhanced
set output 'bench/results/throughput-size.png'
$s0 << EOD
200 122988.2 24.6
2048 104277.9 213.56
8192 70214.6 575.2
EOD
$l0 << EOD
8192 510.72
65536 920.92
EOD
$s1 << EOD
200 134442.3 26.89
2048 121212.3 248.24
8192 79430 650.69
EOD
$l1 << EOD
8192 561.64
65536 1101.12
EOD
$s2 << EOD
200 45624.1 9.12
2048 16921.6 34.66
8192 5154.4 42.22
EOD
$l2 << EOD
8192 24.15
EOD
$s3 << EOD
200 54336.8 10.87
2048 24064.9 49.28
8192 10743.8 88.01
EOD
$l3 << EOD
8192 88.55
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
