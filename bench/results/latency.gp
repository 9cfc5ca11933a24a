set terminal pngcairo size 1200,560 font 'DejaVu Sans,11' noenhanced
set output 'bench/results/latency.png'
$lat << EOD
"WS, 5000 msg/s" 0.129 0.319 0.547 0.75 2.384 1.874
"TCP, 5000 msg/s" 0.132 0.322 0.589 0.814 2.25 1.571
"WS, full load" 2.222 134.449 9.699 252.298 13.996 267.272
"TCP, full load" 2.02 133.259 9.638 248.407 14.865 264.481
EOD

set title "Latency percentiles, 200-byte messages (medians of runs; lower is better)"
set style data histogram
set style histogram cluster gap 1.5
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set ylabel "latency, ms (log scale)"
set grid ytics
set key top left box opaque
set xtics nomirror
plot $lat using 2:xtic(1) title 'msrpd p50' lc rgb '#9ecae1', \
  '' using 3 title 'Kamailio p50' lc rgb '#fcbba1', \
  '' using 4 title 'msrpd p99' lc rgb '#3182bd', \
  '' using 5 title 'Kamailio p99' lc rgb '#fb6a4a', \
  '' using 6 title 'msrpd p99.9' lc rgb '#08519c', \
  '' using 7 title 'Kamailio p99.9' lc rgb '#a50f15'
