set terminal pngcairo size 1200,560 font 'DejaVu Sans,11' noenhanced
set output 'bench/results/throughput-size.png'
$s0 << EOD
200 73313.7 14.66
2048 61237.5 125.41
8192 44917.6 367.97
EOD
$l0 << EOD
8192 370.81
65536 725
EOD
$s1 << EOD
200 99153.6 19.83
2048 83874.9 171.78
8192 52947.2 433.74
EOD
$l1 << EOD
8192 423.98
65536 705.82
EOD
$s2 << EOD
200 36304.7 7.26
2048 20818.5 42.64
8192 7275.7 59.6
EOD
$l2 << EOD
8192 31.11
EOD
$s3 << EOD
200 48571.6 9.71
2048 24877.6 50.95
8192 14024.2 114.89
EOD
$l3 << EOD
8192 108.61
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
