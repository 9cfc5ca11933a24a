set terminal pngcairo size 1200,560 font 'DejaVu Sans,11' noenhanced
set output 'bench/results/scaling.png'
$r0 << EOD
1 49028.4 3.969
10 62331.3 23.172
100 65205.2 189.332
1000 62946.5 1112.59
EOD
$r1 << EOD
1 40805.5 10.964
10 42233.3 278.006
100 9904 235.56
1000 3510.5 784.029
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
