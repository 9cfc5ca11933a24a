set terminal pngcairo size 1200,560 font 'DejaVu Sans,11' noenhanced
set output 'bench/results/latency.png'
$lat << EOD
"WS, 5000 msg/s" 0.147 0.258 0.569 0.683 1.865 1.909
"TCP, 5000 msg/s" 0.144 0.225 0.671 0.592 2.559 1.977
"WS, full load" 3.633 155.301 16.918 251.001 24.035 281.518
"TCP, full load" 2.84 128.735 12.215 260.799 19.409 281.833
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
