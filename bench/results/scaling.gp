set terminal pngcairo size 1200,560 font 'DejaVu Sans,11' noenhanced
set output 'bench/results/scaling.png'
$r0 << EOD
1 79175.5 5.077
10 95654.3 12.057
100 97342.1 123.698
1000 93176.4 774.466
EOD
$r1 << EOD
1 46526.7 13.524
10 46061.4 274.533
100 6693.7 227.853
1000 4918.5 772.415
EOD

set multiplot layout 1,2 title "Scaling with concurrent pairs over WebSocket (200 B, window 32 per pair; medians)"
set logscale x 10
set xrange [0.7:1500]
set grid
set key top right box opaque
set xlabel "concurrent pairs"
set ylabel "messages/s"
set yrange [0:*]
set format y "%.0s%c"
set title "throughput"
plot $r0 using 1:2 with linespoints lw 2 pt 7 lc rgb '#1f77b4' title 'msrpd', \
  $r1 using 1:2 with linespoints lw 2 pt 7 lc rgb '#d62728' title 'Kamailio'
set logscale y
set yrange [*:*]
set format y "%g"
set ylabel "p99 latency, ms (log scale)"
set title "p99 latency"
set key top left
plot $r0 using 1:3 with linespoints lw 2 pt 7 lc rgb '#1f77b4' title 'msrpd', \
  $r1 using 1:3 with linespoints lw 2 pt 7 lc rgb '#d62728' title 'Kamailio'
unset multiplot
