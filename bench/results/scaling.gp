set terminal pngcairo size 1200,560 font 'DejaVu Sans,11' noenhanced
set output 'bench/results/scaling.png'
$r0 << EOD
1 97619.7 2.806
10 120413.8 10.443
100 138706.5 76.83
1000 120590.1 603.818
EOD
$r1 << EOD
1 47977.3 9.399
10 33993.5 262.905
100 11275.2 295.189
1000 5187.9 669.746
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
