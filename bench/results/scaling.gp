set terminal pngcairo size 1200,560 font 'DejaVu Sans,11' noenhanced
set output 'bench/results/scaling.png'
$r0 << EOD
1 54552.9 3.746
10 72147 17.184
100 72906.2 150.054
1000 67975.1 1216.308
EOD
$r1 << EOD
1 39797 354.966
10 44190.4 272.821
100 8617.7 208.595
1000 2068.4 771.875
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
